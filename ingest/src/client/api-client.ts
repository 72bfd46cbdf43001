import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './openapi.js';

export type { paths } from './openapi.js';
export type EnginechainClient = Client<paths>;

/**
 * A typed client for a node's HTTP API, its types generated from /openapi.json. Programs pass an
 * API token (`ect_…`); the dashboard passes none and rides on its session cookie.
 */
export function createEnginechainClient(
  baseUrl: string,
  options: { token?: string; fetch?: typeof fetch } = {},
): EnginechainClient {
  return createClient<paths>({
    baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.token ? { headers: { authorization: `Bearer ${options.token}` } } : {}),
  });
}
