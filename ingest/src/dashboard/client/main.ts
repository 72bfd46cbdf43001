/// <reference lib="dom" />
/**
 * The fleet dashboard: a hash-routed single page (only `/` is served, so every view is a
 * bookmarkable `#/...` address). Anonymous visitors get the public views (node status, what a
 * VIN says, verifying a local evidence file); logging in adds vehicles, trips, events and, for
 * owners, grants. All data comes from the node's API; nothing from the internet.
 */
import { leafHash, openCheckpoint, parseVerifierKey, verifyInclusion } from '@enginechain/shared';
import { api, ApiError, type DataKind, type User, type VehicleEvent, type VinFile } from './api.js';
import { seriesCharts } from './charts.js';
import { fmtNumber, fmtTime, h, link, replace, table } from './dom.js';
import { verifyButton, verifyFileInput } from './verify-panel.js';

const SPEED = 'Vehicle.Speed';
const ENGINE_SPEED = 'Vehicle.Powertrain.CombustionEngine.Speed';

const main = document.getElementById('main') as HTMLElement;
const nav = document.getElementById('nav') as HTMLElement;

let me: User | null = null;
let checkpointKey: Promise<string | undefined> | undefined;

/** The node's checkpoint verifier key: what evidence must be signed with to be VERIFIED. */
function trustedKey(): Promise<string | undefined> {
  checkpointKey ??= api.node().then(
    (n) => n.checkpointVerifierKey,
    () => undefined,
  );
  return checkpointKey;
}

const chartWidth = () => Math.max(320, Math.min(1000, main.clientWidth - 20));

function renderNav(): void {
  const items: (HTMLElement | string)[] = [link('#/', 'Overview'), link('#/node', 'Node status')];
  if (me && me.kind === 'registered') items.push(link('#/grants', 'Grants'));
  items.push(link('#/verify', 'Verify a file'));
  items.push(
    me
      ? h(
          'span',
          { class: 'who' },
          `${me.displayName} (${me.kind}) `,
          h(
            'button',
            { type: 'button', 'data-testid': 'logout', onclick: () => void logout() },
            'Log out',
          ),
        )
      : link('#/login', 'Log in', { 'data-testid': 'login-link' }),
  );
  replace(nav, ...items);
}

async function logout(): Promise<void> {
  await api.logout().catch(() => undefined);
  me = null;
  renderNav();
  location.hash = '#/';
}

function page(title: string, ...children: (Node | string | null)[]): void {
  document.title = `${title} · enginechain`;
  replace(main, h('h1', {}, title), ...children);
}

function errorBox(err: unknown): HTMLElement {
  const text =
    err instanceof ApiError ? `${err.code}: ${err.message}` : `error: ${(err as Error).message}`;
  return h('p', { class: 'error', role: 'alert', 'data-testid': 'error' }, text);
}

// ---- public views ----

async function statusView(): Promise<void> {
  const s = await api.status();
  const rejections = Object.entries(s.rejections);
  page(
    'Node status',
    table(
      ['', ''],
      [
        ['Batches per second', fmtNumber(s.batchesPerSecond, 2)],
        ['Log size (leaves)', s.logSize],
        [
          'Latest checkpoint',
          s.checkpoint
            ? `tree size ${s.checkpoint.treeSize}, ${s.checkpoint.ageSeconds.toFixed(0)} s old`
            : 'none yet',
        ],
        ['Connected devices', s.connectedDevices],
        ['Registered devices', s.devices],
        ['Vehicles', s.vehicles],
        ['Uptime', `${s.uptimeSeconds.toFixed(0)} s`],
      ],
      { class: 'kv', 'data-testid': 'node-status' },
    ),
    h('h2', {}, 'Rejected batches by reason'),
    rejections.length
      ? table(
          ['Reason', 'Count'],
          rejections.map(([code, n]) => [code, n]),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
}

function vinLookup(): HTMLElement {
  const out = h('div', { 'data-testid': 'vin-info' });
  const input = h('input', {
    name: 'vin',
    placeholder: '17-character VIN',
    maxlength: 17,
    size: 20,
  });
  const form = h('form', {}, input, ' ', h('button', { type: 'submit' }, 'Decode'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void api.vin(input.value.trim().toUpperCase()).then(
      (v) =>
        replace(
          out,
          table(
            ['', ''],
            Object.entries(v)
              .filter(([, x]) => x !== null && typeof x !== 'object')
              .map(([k, x]) => [k, String(x)]),
            { class: 'kv' },
          ),
        ),
      (err) => replace(out, errorBox(err)),
    );
  });
  return h('section', {}, h('h2', {}, 'What a VIN says'), form, out);
}

async function publicOverview(): Promise<void> {
  const s = await api.status();
  page(
    'enginechain node',
    h(
      'p',
      { 'data-testid': 'public-summary' },
      `${s.vehicles} vehicles, ${s.devices} devices, ${s.logSize} log entries. `,
      'Driving data is private: log in to see your vehicles, or verify an evidence file you were given.',
    ),
    vinLookup(),
  );
}

function verifyView(): void {
  page(
    'Verify an evidence file',
    h(
      'p',
      {},
      "Checks the file in this browser, trusting this node's checkpoint key: the signatures, the device registration, every batch and every proof. Nothing is uploaded.",
    ),
    verifyFileInput(trustedKey),
  );
}

function loginView(): void {
  const username = h('input', { name: 'username', autocomplete: 'username', required: true });
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const message = h('div', {});
  const form = h(
    'form',
    { class: 'login', 'data-testid': 'login-form' },
    h('label', {}, 'User name ', username),
    h('label', {}, 'Password ', password),
    h('button', { type: 'submit' }, 'Log in'),
    message,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    void api.login(username.value, password.value).then(
      ({ user }) => {
        me = user;
        renderNav();
        location.hash = '#/';
      },
      (err) => replace(message, errorBox(err)),
    );
  });
  page(
    'Log in',
    h('p', {}, 'Vehicle owners, drivers and business users (insurers, fleets).'),
    form,
  );
}

// ---- logged-in views ----

async function fleetView(): Promise<void> {
  const { vehicles } = await api.vehicles();
  page(
    me?.kind === 'business' ? 'Vehicles shared with you' : 'Your vehicles',
    vehicles.length
      ? table(
          ['VIN', 'Vehicle', 'Access', 'Score', 'Distance', 'Last seen', 'Open alerts'],
          vehicles.map((v) => [
            link(`#/vehicles/${v.vin}`, v.vin),
            [v.manufacturer ?? 'unknown make', v.modelYear ?? ''].join(' ').trim(),
            v.relation === 'owner' ? 'owner' : `grant: ${v.kinds.join(', ')}`,
            fmtNumber(v.score, 0),
            v.distanceKm === null ? '—' : `${fmtNumber(v.distanceKm, 1)} km`,
            fmtTime(v.lastSeen),
            v.openAlerts ?? '—',
          ]),
          { 'data-testid': 'fleet' },
        )
      : h('p', { class: 'muted' }, 'No vehicles.'),
  );
}

async function vehicleView(vin: string): Promise<void> {
  const vehicles = (await api.vehicles()).vehicles;
  const v = vehicles.find((x) => x.vin === vin);
  const kinds = new Set<DataKind>(v?.kinds ?? []);
  const sections: HTMLElement[] = [];
  if (kinds.has('trips')) {
    const { trips } = await api.trips(vin);
    sections.push(
      h('h2', {}, 'Trips'),
      trips.length
        ? table(
            ['Start', 'Distance', 'Duration', 'Max speed', 'Harsh acc./brak.', 'Crashes', 'Score'],
            trips.map((t) => [
              link(`#/vehicles/${vin}/trips/${encodeURIComponent(t.id)}`, fmtTime(t.start), {
                'data-testid': 'trip-link',
              }),
              `${fmtNumber(t.distanceKm, 2)} km`,
              `${t.durationS.toFixed(0)} s`,
              `${fmtNumber(t.maxSpeedKmh)} km/h`,
              `${t.harshAccelerationCount} / ${t.harshBrakingCount}`,
              t.crashCount,
              fmtNumber(t.score, 0),
            ]),
            { 'data-testid': 'trips' },
          )
        : h('p', { class: 'muted' }, 'No trips.'),
    );
  }
  if (kinds.has('events')) {
    const { events } = await api.events(vin);
    sections.push(h('h2', {}, 'Events'), eventsTable(vin, events));
  }
  page(
    `Vehicle ${vin}`,
    v ? null : h('p', { class: 'muted' }, 'Not one of your vehicles.'),
    v
      ? h(
          'p',
          {},
          link(
            `#/vehicles/${vin}/file`,
            'VIN file: the lifetime timeline, checked against the log',
            {
              'data-testid': 'vin-file-link',
            },
          ),
        )
      : null,
    ...sections,
  );
}

const fromBase64 = (b64: string): Uint8Array => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

/**
 * What the page itself proved about each item of a VIN file: the checkpoint is signed by the
 * node's published key and names the root the file claims; each leaf's inclusion proof leads
 * to that root. The node is not trusted for any of it.
 */
function checkVinFile(
  file: VinFile,
  verifierKey: string | undefined,
  origin: string,
): { checkpoint: string; items: string[] } {
  const cp = file.checkpoint;
  if (!cp)
    return { checkpoint: 'no signed checkpoint yet', items: file.items.map(() => 'pending') };
  let root: Uint8Array;
  try {
    if (!verifierKey) throw new Error('the node published no checkpoint key');
    const { checkpoint } = openCheckpoint(cp.note, [parseVerifierKey(verifierKey)], { origin });
    root = checkpoint.rootHash;
    if (
      checkpoint.treeSize !== BigInt(cp.treeSize) ||
      btoa(String.fromCharCode(...root)) !== cp.rootHash
    )
      throw new Error('the signed checkpoint does not name the size and root the file claims');
  } catch (err) {
    const reason = `checkpoint NOT verified: ${(err as Error).message}`;
    return { checkpoint: reason, items: file.items.map(() => 'not checked') };
  }
  const items = file.items.map((item) => {
    if (item.leaves.length === 0) return 'no log entry';
    let pending = 0;
    try {
      for (const l of item.leaves) {
        if (!l.proof) {
          pending++;
          continue;
        }
        const leaf = leafHash(fromBase64(l.entry));
        verifyInclusion(
          BigInt(l.leafIndex),
          BigInt(cp.treeSize),
          leaf,
          l.proof.map(fromBase64),
          root,
        );
      }
    } catch (err) {
      return `NOT included: ${(err as Error).message}`;
    }
    const proved = item.leaves.length - pending;
    return pending === 0
      ? `included (${proved} ${proved === 1 ? 'entry' : 'entries'})`
      : `${proved} included, ${pending} newer than the checkpoint`;
  });
  return { checkpoint: `signed by the node's checkpoint key, ${cp.treeSize} entries`, items };
}

async function vinFileView(vin: string): Promise<void> {
  const [file, key, node] = await Promise.all([api.file(vin), trustedKey(), api.node()]);
  const checked = checkVinFile(file, key, node.logOrigin);
  const download = h(
    'button',
    {
      type: 'button',
      'data-testid': 'vin-file-download',
      onclick: () => {
        const blob = new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' });
        const a = h('a', { href: URL.createObjectURL(blob), download: `vin-file-${vin}.json` });
        a.click();
        URL.revokeObjectURL(a.href);
      },
    },
    'Download the VIN file (JSON)',
  );
  page(
    `VIN file ${vin}`,
    h('p', {}, link(`#/vehicles/${vin}`, `← ${vin}`)),
    h(
      'p',
      {},
      'Every item with the sidechain entries behind it. This page checked the checkpoint signature and each inclusion proof itself.',
    ),
    h('p', { 'data-testid': 'vin-file-checkpoint' }, `Checkpoint: ${checked.checkpoint}`),
    download,
    table(
      ['Time', 'Kind', 'What', 'Log leaves', 'Proof'],
      file.items.map((item, i) => [
        fmtTime(item.at),
        item.kind,
        item.summary,
        item.leaves.map((l) => l.leafIndex).join(', '),
        h('span', { class: checked.items[i]?.startsWith('NOT') ? 'bad' : '' }, checked.items[i]),
      ]),
      { 'data-testid': 'vin-file' },
    ),
  );
}

function eventsTable(vin: string, events: readonly VehicleEvent[]): HTMLElement {
  return events.length
    ? table(
        ['Time', 'Type', 'Priority', 'Details'],
        events.map((e) => [
          link(`#/vehicles/${vin}/events/${e.id}`, fmtTime(e.start), {
            'data-testid': `event-link-${e.type}`,
          }),
          e.type,
          e.priority,
          Object.entries(e.data)
            .map(([k, x]) => `${k}=${String(x)}`)
            .join(' '),
        ]),
        { 'data-testid': 'events' },
      )
    : h('p', { class: 'muted' }, 'No events.');
}

async function tripView(vin: string, tripId: string): Promise<void> {
  const { trip, series, events } = await api.trip(vin, tripId);
  const markers = events.map((e) => ({ time: e.start, label: e.type }));
  page(
    `Trip ${fmtTime(trip.start)}`,
    h('p', {}, link(`#/vehicles/${vin}`, `← ${vin}`)),
    table(
      ['', ''],
      [
        ['Distance', `${fmtNumber(trip.distanceKm, 2)} km`],
        ['Duration', `${trip.durationS.toFixed(0)} s (idle ${trip.idleS.toFixed(0)} s)`],
        ['Max speed', `${fmtNumber(trip.maxSpeedKmh)} km/h`],
        ['Score', fmtNumber(trip.score, 0)],
      ],
      { class: 'kv' },
    ),
    seriesCharts(series, [SPEED, ENGINE_SPEED], markers, chartWidth()),
    h('h2', {}, 'Events on this trip'),
    eventsTable(vin, events),
  );
}

async function eventView(vin: string, id: number): Promise<void> {
  const { event, trace } = await api.event(vin, id);
  const traceNames = trace ? Object.keys(trace.series).sort() : [];
  page(
    `${event.type} at ${fmtTime(event.start)}`,
    h('p', {}, link(`#/vehicles/${vin}`, `← ${vin}`)),
    table(
      ['', ''],
      [
        ['Type', event.type],
        ['Priority', event.priority],
        ['Device', event.deviceId],
        ['Batch seq', event.seq],
        ...Object.entries(event.data).map(([k, x]): [string, string] => [k, String(x)]),
      ],
      { class: 'kv' },
    ),
    h('h2', {}, 'Evidence'),
    h(
      'p',
      {},
      "Downloads the signed evidence file for this event and checks it here, in the browser, with the node's published checkpoint key.",
    ),
    verifyButton(
      async () => ({
        bytes: await api.evidence(vin, id),
        name: `evidence-${vin}-event-${id}.cbor`,
      }),
      trustedKey,
    ),
    h('h2', {}, trace ? 'Crash trace' : 'Trace'),
    trace
      ? seriesCharts(
          trace.series,
          traceNames,
          [{ time: event.start, label: event.type }],
          chartWidth(),
        )
      : h('p', { class: 'muted' }, 'No trace access for this event.'),
  );
}

async function grantsView(): Promise<void> {
  const [{ grants }, { vehicles }, { users }] = await Promise.all([
    api.grants(),
    api.vehicles(),
    api.businessUsers(),
  ]);
  const owned = vehicles.filter((v) => v.relation === 'owner');
  const message = h('div', {});
  const vin = h(
    'select',
    { name: 'vin' },
    ...owned.map((v) => h('option', { value: v.vin }, v.vin)),
  );
  const business = h(
    'select',
    { name: 'business' },
    ...users.map((u) => h('option', { value: u.username }, `${u.displayName} (${u.username})`)),
  );
  const kindBoxes = (['trips', 'events', 'traces', 'scores'] as const).map((k) =>
    h(
      'label',
      {},
      h('input', { type: 'checkbox', name: 'kind', value: k, checked: true }),
      ` ${k} `,
    ),
  );
  const days = h('input', { name: 'days', type: 'number', min: 1, max: 3650, value: 30, size: 5 });
  const form = h(
    'form',
    { 'data-testid': 'grant-form' },
    h('label', {}, 'Vehicle ', vin),
    ' ',
    h('label', {}, 'Business ', business),
    h('div', {}, ...kindBoxes),
    h('label', {}, 'Expires in (days) ', days),
    ' ',
    h('button', { type: 'submit' }, 'Grant access'),
    message,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const kinds = kindBoxes
      .map((l) => l.querySelector('input') as HTMLInputElement)
      .filter((i) => i.checked)
      .map((i) => i.value as DataKind);
    const now = Date.now();
    void api
      .createGrant({
        vin: vin.value,
        business: business.value,
        kinds,
        from: 0,
        to: now + 3650 * 86_400_000,
        expiresAt: now + Number(days.value) * 86_400_000,
      })
      .then(
        () => void route(),
        (err) => replace(message, errorBox(err)),
      );
  });
  page(
    'Grants',
    h(
      'p',
      {},
      'Who may see what of your vehicles. Every grant and revocation is logged as a hash entry on the sidechain.',
    ),
    grants.length
      ? table(
          ['Vehicle', 'Business', 'Kinds', 'Expires', 'Status', 'Log leaf', ''],
          grants.map((g) => [
            g.vin,
            g.business,
            g.kinds.join(', '),
            fmtTime(g.expiresAt),
            g.status,
            g.leafIndex,
            g.status === 'active' && me?.kind === 'registered'
              ? h(
                  'button',
                  {
                    type: 'button',
                    'data-testid': `revoke-${g.id}`,
                    onclick: () =>
                      void api.revokeGrant(g.id).then(
                        () => route(),
                        (err) => replace(message, errorBox(err)),
                      ),
                  },
                  'Revoke',
                )
              : '',
          ]),
          { 'data-testid': 'grants' },
        )
      : h('p', { class: 'muted' }, 'No grants.'),
    me?.kind === 'registered' && owned.length ? h('h2', {}, 'New grant') : null,
    me?.kind === 'registered' && owned.length ? form : null,
  );
}

// ---- routing ----

async function route(): Promise<void> {
  const path = location.hash.replace(/^#/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  main.setAttribute('aria-busy', 'true');
  try {
    if (parts[0] === 'login') return loginView();
    if (parts[0] === 'verify') return verifyView();
    if (parts[0] === 'node') return await statusView();
    if (!me) {
      if (parts.length > 0) return loginView();
      return await publicOverview();
    }
    if (parts[0] === 'grants') return await grantsView();
    if (parts[0] === 'vehicles' && parts[1]) {
      if (parts[2] === 'trips' && parts[3]) return await tripView(parts[1], parts[3]);
      if (parts[2] === 'events' && parts[3]) return await eventView(parts[1], Number(parts[3]));
      if (parts[2] === 'file') return await vinFileView(parts[1]);
      return await vehicleView(parts[1]);
    }
    return await fleetView();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      me = null;
      renderNav();
      return loginView();
    }
    page('Something went wrong', errorBox(err));
  } finally {
    main.setAttribute('aria-busy', 'false');
    main.dataset.route = path;
  }
}

async function start(): Promise<void> {
  me = await api.me().catch(() => null);
  renderNav();
  window.addEventListener('hashchange', () => void route());
  await route();
}

void start();
