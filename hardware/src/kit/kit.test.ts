/**
 * The installer kit (hardware/kit): board profiles checked against a schema, the systemd units
 * by `systemd-analyze verify` (or structurally, saying so), the udev rules structurally, and
 * all three against each other (every device a profile uses has a udev name and is allowed by
 * the unit).
 */
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { boardProfileSchema, type BoardProfile } from '@enginechain/agent';
import { TOYOTA_VSS_MAPPING } from '@enginechain/firmware-bridge';
import { signalInfo } from '@enginechain/shared';
import { kitUnitNodeOptions, kitUnitPath, type KitUnit } from './kit-units.js';

const KIT = fileURLToPath(new URL('../../kit/', import.meta.url));

// The agent's own schema: a profile the kit ships is one `provision --profile` accepts.
const boardProfile = boardProfileSchema;

const profileFiles = readdirSync(join(KIT, 'profiles')).filter((f) => f.endsWith('.json'));
const profiles: BoardProfile[] = profileFiles.map((f) =>
  boardProfile.parse(JSON.parse(readFileSync(join(KIT, 'profiles', f), 'utf8'))),
);
const unitTextOf = (unit: KitUnit) => readFileSync(join(KIT, 'systemd', `${unit}.service`), 'utf8');
const unitText = unitTextOf('enginechain-agent');
const rulesText = readFileSync(join(KIT, 'udev', '99-enginechain.rules'), 'utf8');

/** `Key=value` lines of one section; repeated keys keep every value. */
function section(text: string, name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      current = header[1] ?? '';
      continue;
    }
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!kv) throw new Error(`not Key=value: ${line}`);
    if (current === name) out.set(kv[1] ?? '', [...(out.get(kv[1] ?? '') ?? []), kv[2] ?? '']);
  }
  return out;
}

interface UdevRule {
  match: Record<string, string>;
  assign: Record<string, string>;
}

function parseRules(text: string): UdevRule[] {
  const rules: UdevRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const rule: UdevRule = { match: {}, assign: {} };
    for (const part of line.split(/,\s*/)) {
      const m = /^([A-Z_]+(?:\{[A-Za-z_]+\})?)(==|!=|\+=|:=|=)"([^"]*)"$/.exec(part);
      if (!m) throw new Error(`bad udev key in: ${part}`);
      const [, key = '', op, value = ''] = m;
      if (op === '==' || op === '!=') rule.match[key] = value;
      else rule.assign[key] = value;
    }
    rules.push(rule);
  }
  return rules;
}

describe('board profiles', () => {
  it('covers the Pi 4/5 CAN HAT, USB ELM327 and Wi-Fi ELM327 set-ups, each schema-valid', () => {
    expect(profiles.map((p) => p.id).sort()).toEqual([
      'rpi4-mcp2515-can',
      'rpi5-mcp2515-can',
      'usb-elm327',
      'wifi-elm327',
    ]);
    const can = profiles.find((p) => p.id === 'rpi4-mcp2515-can')?.sources[0];
    expect(can).toMatchObject({ kind: 'socketcan', interface: 'can0', bitrate: 500000 });
    expect(profiles.find((p) => p.id === 'wifi-elm327')?.sources[0]).toMatchObject({
      kind: 'elm327-tcp',
      host: '192.168.0.10',
      port: 35000,
    });
    for (const p of profiles.filter((p) => p.id.startsWith('rpi'))) {
      expect(p.bootConfig).toContain('dtparam=spi=on');
      expect(p.bootConfig.some((l) => l.startsWith('dtoverlay=mcp2515-can0,'))).toBe(true);
    }
  });

  it('names only signals of the VSS catalogue, so the agent gets what a profile asks for', () => {
    for (const p of profiles) {
      for (const src of p.sources) {
        for (const sig of src.signals)
          expect(signalInfo(sig.name), `${p.id}: ${sig.name}`).toBeDefined();
      }
    }
  });

  it('asks an ELM327 for no more than it can answer (one request at a time, < 20/s)', () => {
    for (const p of profiles) {
      for (const s of p.sources) {
        if (!s.kind.startsWith('elm327')) continue;
        const total = s.signals.reduce((sum, x) => sum + x.rateHz, 0);
        expect(total, p.id).toBeLessThan(20);
      }
    }
  });

  it('has an ELM327 poll battery voltage (ATRV) and stored DTCs, which low-battery and DTC events need', () => {
    for (const p of profiles) {
      for (const s of p.sources) {
        if (!s.kind.startsWith('elm327')) continue;
        const names = s.signals.map((x) => x.name);
        expect(names, p.id).toContain('Vehicle.LowVoltageBattery.CurrentVoltage');
        expect(names, p.id).toContain('Vehicle.OBD.DTCList');
      }
    }
  });

  it('asks a CAN HAT only for signals a DBC mapping gives (the shipped toyota one)', () => {
    // A CAN HAT hears what the car broadcasts; OBD-II-only values (MAF, coolant) never come.
    const mapped = new Set(TOYOTA_VSS_MAPPING.map((m) => m.name));
    for (const p of profiles) {
      for (const s of p.sources) {
        if (s.kind !== 'socketcan' && s.kind !== 'slcan') continue;
        for (const sig of s.signals) expect(mapped, `${p.id}: ${sig.name}`).toContain(sig.name);
      }
    }
  });

  it('brings can0 up at the bitrate the CAN profiles expect (80-enginechain-can0.network)', () => {
    const network = readFileSync(join(KIT, 'systemd', '80-enginechain-can0.network'), 'utf8');
    const name = section(network, 'Match').get('Name')?.[0];
    const rate = section(network, 'CAN').get('BitRate')?.[0] ?? '';
    const bitrate = Number(rate.replace(/K$/, '')) * (rate.endsWith('K') ? 1000 : 1);
    const can = profiles.flatMap((p) => p.sources).filter((s) => s.kind === 'socketcan');
    expect(can.length).toBeGreaterThan(0);
    for (const s of can)
      expect({ name, bitrate }).toEqual({ name: s.interface, bitrate: s.bitrate });
  });

  it('rejects a profile with a wrong field, naming it', () => {
    const bad = {
      ...profiles[0],
      sources: [{ kind: 'socketcan', interface: 'can0', bitrate: 499000, signals: [] }],
    };
    const result = boardProfile.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join('.'))).toEqual(
      expect.arrayContaining(['sources.0.bitrate', 'sources.0.signals']),
    );
  });
});

describe('udev rules', () => {
  const rules = parseRules(rulesText);
  const expected: [string, string, string][] = [
    ['0403', '6001', 'enginechain/elm327'],
    ['1a86', '7523', 'enginechain/elm327'],
    ['10c4', 'ea60', 'enginechain/elm327'],
    ['067b', '2303', 'enginechain/elm327'],
    ['16d0', '117e', 'enginechain/slcan'],
    ['1546', '01a7', 'enginechain/gnss'],
  ];
  for (const [vid, pid, link] of expected) {
    it(`names ${vid}:${pid} /dev/${link} with group access`, () => {
      const rule = rules.find(
        (r) => r.match['ATTRS{idVendor}'] === vid && r.match['ATTRS{idProduct}'] === pid,
      );
      expect(rule).toBeDefined();
      expect(rule?.match.SUBSYSTEM).toBe('tty');
      expect(rule?.assign.SYMLINK).toBe(link);
      expect(rule?.assign.GROUP).toBe('enginechain');
      expect(rule?.assign.MODE).toBe('0660');
    });
  }

  it('gives every serial device a profile uses a udev name', () => {
    const links = new Set(rules.map((r) => `/dev/${r.assign.SYMLINK}`));
    for (const p of profiles) {
      for (const s of p.sources)
        if ('device' in s) expect(links, `${p.id} ${s.device}`).toContain(s.device);
    }
  });
});

describe('systemd unit enginechain-agent.service', () => {
  const service = section(unitText, 'Service');
  const one = (key: string) => service.get(key)?.[0];

  it('has the supervision and sandbox settings the installer relies on', () => {
    expect(one('Type')).toBe('notify');
    expect(one('WatchdogSec')).toBe('30');
    expect(one('Restart')).toBe('always');
    expect(Number(one('RestartSec'))).toBeGreaterThan(0);
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('ProtectHome')).toBe('yes');
    expect(one('PrivateTmp')).toBe('yes');
    expect(one('ReadWritePaths')).toBe('/var/lib/enginechain');
    expect(one('StateDirectory')).toBe('enginechain');
    expect(one('User')).toBe('enginechain');
    expect(one('DevicePolicy')).toBe('closed');
    expect(one('RestrictAddressFamilies')?.split(' ')).toContain('AF_CAN');
    expect(section(unitText, 'Install').get('WantedBy')).toEqual(['multi-user.target']);
  });

  it('starts from the config provision writes into the one folder the agent may write', () => {
    // `enginechain provision --out /var/lib/enginechain` puts device.key, agent.json and the
    // outbox there; with ProtectSystem=strict nothing else is writable.
    const config = /--config (\S+)/.exec(one('ExecStart') ?? '')?.[1] ?? '';
    expect(config).toBe('/var/lib/enginechain/agent.json');
    expect(dirname(config)).toBe(one('ReadWritePaths'));
    expect(dirname(config)).toBe(`/var/lib/${one('StateDirectory')}`);
  });

  it('runs node with the flags the memory benchmark measures', () => {
    expect(kitUnitNodeOptions('enginechain-agent', unitText)).toMatch(/--max-old-space-size=\d+/);
  });

  it('allows the device classes behind every /dev/enginechain name', () => {
    const allowed = (service.get('DeviceAllow') ?? []).map((v) => v.split(' ')[0]);
    // FTDI/CH340/CP210x/PL2303 are ttyUSB; CANable and u-blox are CDC-ACM (ttyACM).
    expect(allowed).toEqual(expect.arrayContaining(['char-ttyUSB', 'char-ttyACM']));
    for (const v of service.get('DeviceAllow') ?? []) expect(v).toMatch(/ rw$/);
  });
});

describe('systemd unit enginechain-ingest.service', () => {
  const text = unitTextOf('enginechain-ingest');
  const service = section(text, 'Service');
  const one = (key: string) => service.get(key)?.[0];

  it('runs the node sandboxed, writing only its state directory', () => {
    expect(one('Restart')).toBe('always');
    expect(one('User')).toBe('enginechain-ingest');
    expect(one('NoNewPrivileges')).toBe('yes');
    expect(one('ProtectSystem')).toBe('strict');
    expect(one('PrivateDevices')).toBe('yes');
    expect(one('ReadWritePaths')).toBe(`/var/lib/${one('StateDirectory')}`);
    expect(one('StateDirectoryMode')).toBe('0700');
    expect(one('RestrictAddressFamilies')?.split(' ').sort()).toEqual(['AF_INET', 'AF_INET6', 'AF_UNIX']);
    // V8 writes the code it compiles into executable pages.
    expect(service.has('MemoryDenyWriteExecute')).toBe(false);
    expect(Number(one('LimitNOFILE'))).toBeGreaterThanOrEqual(65_536);
  }); // prettier-ignore

  it('keeps the data in the state directory and reads the config from the configuration directory', () => {
    const exec = one('ExecStart') ?? '';
    expect(exec).toMatch(/^\/usr\/local\/bin\/enginechain ingest /);
    expect(/--data (\S+)/.exec(exec)?.[1]).toBe(`/var/lib/${one('StateDirectory')}`);
    expect(dirname(/--config (\S+)/.exec(exec)?.[1] ?? '')).toBe(`/etc/${one('ConfigurationDirectory')}`);
  }); // prettier-ignore

  it('runs node with the young generation the throughput benchmark measures', () => {
    expect(kitUnitNodeOptions('enginechain-ingest', text)).toMatch(/--max-semi-space-size=\d+/);
  });
});

describe.each(['enginechain-agent', 'enginechain-ingest'] as const)(
  'systemd unit %s.service',
  (unit) => {
    const text = unitTextOf(unit);

    it('sets NODE_OPTIONS that Node accepts', () => {
      // Node refuses the whole variable, and so would never start the service, if one flag is
      // not allowed there (most V8 flags are not).
      const r = spawnSync(process.execPath, ['-e', 'process.exit(0)'], {
        env: { ...process.env, NODE_OPTIONS: kitUnitNodeOptions(unit, text) },
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      expect(kitUnitPath(unit)).toMatch(new RegExp(`kit/systemd/${unit}\\.service$`));
    });

    const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    const haveAnalyze = analyze.status === 0;
    // Without systemd-analyze the test is reported as skipped, saying why: only the structural
    // checks above ran.
    const verifyTitle = haveAnalyze
      ? 'passes systemd-analyze verify (only the missing ExecStart binary is tolerated)'
      : 'systemd-analyze verify: SKIPPED, systemd-analyze not installed (structural checks only)';
    it.runIf(haveAnalyze)(verifyTitle, () => {
      const dir = mkdtempSync(join(tmpdir(), 'enginechain-unit-'));
      try {
        const file = join(dir, `${unit}.service`);
        copyFileSync(join(KIT, 'systemd', `${unit}.service`), file);
        const run = (path: string) =>
          spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' })
            .stderr.split('\n')
            .filter((l) => l.trim() !== '')
            // enginechain is not installed on the test machine; where the unit runs, it is.
            .filter((l) => !/Command \/usr\/local\/bin\/enginechain is not executable/.test(l));
        expect(run(file)).toEqual([]);
        // Control: verify does catch a misspelt key, so the empty list above means something.
        const typo = join(dir, 'typo.service');
        writeFileSync(typo, text.replace('RestartSec=', 'RestartSecs='));
        expect(run(typo).join('\n')).toMatch(/Unknown key 'RestartSecs'/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);
