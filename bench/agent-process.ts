/**
 * The agent as a board runs it: `enginechain agent --config` from the built packages, with the
 * node flags of the systemd unit in hardware/kit/systemd, reading 100 CAN signals at 10 Hz (a
 * candump log of 25 messages × 4 signals, replayed in real time through the DBC decoder) and
 * sending to a real ingestion node. RSS and CPU are read from /proc for the agent process
 * alone, so nothing of the benchmark runner is counted.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadAgentConfig, provisionDevice } from '@enginechain/agent';
import { encodeMessage, formatCandumpLine, parseDbc } from '@enginechain/firmware-bridge';
import { kitUnitNodeOptions } from '@enginechain/hardware';
import { IngestNode } from '@enginechain/ingest';

const VIN = '1HGCM82633A004352';
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const MESSAGES = 25;
const SIGNALS_PER_MESSAGE = 4;
const RATE_HZ = 10;
/** Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ). */
const CLOCK_TICKS_PER_S = 100;

export interface AgentProcessMeasure {
  /** NODE_OPTIONS of the systemd unit, which the measured process ran with. */
  readonly nodeOptions: string;
  /** VmHWM: the most the process ever had resident. */
  readonly rssPeakBytes: number;
  /** VmRSS once started (after the warm-up), the median of one reading per 500 ms. */
  readonly rssSteadyBytes: number;
  /** CPU time over wall time after the warm-up, as a share of one core. */
  readonly cpuShare: number;
  /** The same node with the same flags running nothing: what any Node process costs. */
  readonly bareNodeRssBytes: number;
  /** Of the peak: pages of the node binary itself (file-backed, shared, dropped under pressure). */
  readonly nodeBinaryRssBytes: number;
  readonly seconds: number;
  readonly batchesLogged: number;
}

/** VmHWM of `node` with these options doing nothing for a second. */
function bareNodeRss(nodeOptions: string): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 1_000)'], {
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
    stdio: 'ignore',
  });
  return new Promise((resolve, reject) => {
    setTimeout(() => {
      try {
        resolve(procStatus(child.pid ?? -1).VmHWM ?? 0);
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    }, 700);
  });
}

/** Resident bytes of the mappings of the node executable. */
function nodeBinaryRss(pid: number): number {
  let mapping = '';
  let bytes = 0;
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) mapping = head[1] ?? '';
    const rss = /^Rss:\s+(\d+) kB$/.exec(line);
    if (rss?.[1] && mapping === process.execPath) bytes += Number(rss[1]) * 1_024;
  }
  return bytes;
}

function benchDbc(): string {
  const lines = ['VERSION "enginechain-bench-1"', '', 'BU_: BENCH GATEWAY', ''];
  for (let m = 0; m < MESSAGES; m++) {
    lines.push(`BO_ ${0x100 + m} BENCH_${m}: 8 BENCH`);
    for (let s = 0; s < SIGNALS_PER_MESSAGE; s++) {
      const n = m * SIGNALS_PER_MESSAGE + s;
      lines.push(` SG_ S${n} : ${s * 16}|16@1+ (0.01,0) [0|655.35] "km/h" GATEWAY`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** `durationS` of frames: every message at RATE_HZ, each signal a slowly varying value. */
function benchLog(dbcText: string, durationS: number): string {
  const db = parseDbc(dbcText);
  const out: string[] = [];
  const t0 = 1_700_000_000_000;
  for (let tick = 0; tick < durationS * RATE_HZ; tick++) {
    const time = t0 + (tick * 1_000) / RATE_HZ;
    for (const message of db.messages) {
      const values: Record<string, number> = {};
      for (const signal of message.signals) {
        const n = Number(signal.name.slice(1));
        values[signal.name] = Math.round((50 + 10 * Math.sin(time / 5_000 + n)) * 100) / 100;
      }
      const data = encodeMessage(message, values);
      out.push(formatCandumpLine({ id: message.id, extended: false, rtr: false, fd: false, data, time })); // prettier-ignore
    }
  }
  return out.join('\n') + '\n';
}

function procStatus(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/status`, 'utf8').split('\n')) {
    const m = /^(Vm\w+):\s+(\d+) kB$/.exec(line);
    if (m?.[1] && m[2]) out[m[1]] = Number(m[2]) * 1_024;
  }
  return out;
}

function cpuSeconds(pid: number): number {
  // Fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_S;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureAgentProcess(
  seconds = 60,
  warmUpS = 15,
): Promise<AgentProcessMeasure> {
  // BENCH_NODE_OPTIONS: try other flags against the same load (the report says which ran).
  const nodeOptions = process.env.BENCH_NODE_OPTIONS ?? kitUnitNodeOptions('enginechain-agent');
  const dir = mkdtempSync(join(tmpdir(), 'ec-bench-agent-proc-'));
  const node = await IngestNode.start({
    dataDir: join(dir, 'node'),
    mqtt: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    logger: pino({ level: 'silent' }),
  });
  try {
    const dbcText = benchDbc();
    writeFileSync(join(dir, 'bench.dbc'), dbcText);
    writeFileSync(join(dir, 'bench.log'), benchLog(dbcText, seconds + 30));
    const mapping = Array.from({ length: MESSAGES * SIGNALS_PER_MESSAGE }, (_, n) => ({
      message: `BENCH_${Math.floor(n / SIGNALS_PER_MESSAGE)}`,
      signals: `S${n}`,
      name: `Vehicle.Bench.Signal${n}`,
      unit: 'km/h',
    }));
    writeFileSync(join(dir, 'mapping.json'), JSON.stringify(mapping));
    const { token } = await node.enrolment.issueToken(VIN);
    const provisioned = await provisionDevice({
      ingest: node.httpUrl,
      token,
      vin: VIN,
      out: join(dir, 'agent'),
      sources: [
        {
          type: 'candump',
          file: join(dir, 'bench.log'),
          dbc: join(dir, 'bench.dbc'),
          mapping: join(dir, 'mapping.json'),
          signals: {},
        },
      ],
    });
    const config = {
      ...loadAgentConfig(provisioned.configPath),
      metrics: { host: '127.0.0.1', port: 0, allowRemote: false },
      log: { level: 'warn' },
    };
    writeFileSync(provisioned.configPath, JSON.stringify(config), { mode: 0o600 });

    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptions };
    const child = spawn(
      process.execPath,
      [join(repoRoot, 'bin', 'enginechain.js'), 'agent', '--config', provisioned.configPath],
      { cwd: repoRoot, env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const pid = child.pid;
    if (pid === undefined) throw new Error('the agent did not start');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const alive = () => child.exitCode === null && child.signalCode === null;

    await sleep(warmUpS * 1_000);
    if (!alive()) throw new Error(`the agent exited early:\n${stderr}`);
    const cpu0 = cpuSeconds(pid);
    const wall0 = performance.now();
    const rss: number[] = [];
    while (performance.now() - wall0 < (seconds - warmUpS) * 1_000) {
      if (!alive()) throw new Error(`the agent exited early:\n${stderr}`);
      rss.push(procStatus(pid).VmRSS ?? 0);
      await sleep(500);
    }
    const cpuShare = (cpuSeconds(pid) - cpu0) / ((performance.now() - wall0) / 1_000);
    const rssPeakBytes = procStatus(pid).VmHWM ?? 0;
    const nodeBinaryRssBytes = nodeBinaryRss(pid);
    child.kill('SIGTERM');
    await exited;
    const batchesLogged = (await node.store.counts()).batches;
    if (batchesLogged === 0) throw new Error(`no batch of the agent reached the node:\n${stderr}`);
    rss.sort((a, b) => a - b);
    return {
      nodeOptions,
      bareNodeRssBytes: await bareNodeRss(nodeOptions),
      nodeBinaryRssBytes,
      rssPeakBytes,
      rssSteadyBytes: rss[Math.floor(rss.length / 2)] ?? 0,
      cpuShare,
      seconds,
      batchesLogged,
    };
  } finally {
    await node.stop();
  }
}
