import { describe, expect, it } from 'vitest';
import { runCli } from './support/run-cli.js';

describe('enginechain CLI', () => {
  it('lists its commands with --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const command of ['keygen', 'vin', 'obd', 'can', 'simulate']) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('gives --help on every command it lists (each loads only the package that owns it)', async () => {
    const listed = (await runCli(['--help'])).stdout
      .split('\n')
      .map((l) => /^ {2}([a-z][a-z-]*)\b/.exec(l)?.[1])
      .filter((c): c is string => c !== undefined && c !== 'help');
    expect(listed).toEqual(expect.arrayContaining(['agent', 'ingest', 'demo', 'user', 'device']));
    for (const command of [...listed.map((c) => [c]), ['can', 'decode']]) {
      const r = await runCli([...command, '--help']);
      expect(r.code, command.join(' ')).toBe(0);
      expect(r.stdout).toContain(`Usage: enginechain ${command.join(' ')}`);
    }
    // Fifteen node processes one after another: about 1 s each on a quiet machine.
  }, 120_000);

  it('verify: a bad --min-signatures is refused with what is wrong', async () => {
    const r = await runCli(['verify', 'evidence.cbor', '--min-signatures', 'abc']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      "'--min-signatures <k>' argument 'abc' is invalid. must be an integer ≥ 1",
    );
  });

  it('vin: prints what a valid VIN says', async () => {
    const r = await runCli(['vin', '1M8GDM9AXKP042788']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('(valid)');
    expect(r.stdout).toContain('Motor Coach Industries');
    expect(r.stdout).toContain('model year     1989');
  });

  it('vin --json: one object', async () => {
    const r = await runCli(['vin', '--json', '1HGCM82633A004352']);
    expect(r.code).toBe(0);
    const v = JSON.parse(r.stdout) as {
      valid: boolean;
      manufacturer: string;
      modelYears: number[];
    };
    expect(v).toMatchObject({ valid: true, manufacturer: 'Honda', modelYears: [2003] });
  });

  it('vin: says why an invalid VIN is invalid and exits non-zero', async () => {
    const r = await runCli(['vin', '1M8GDM9A1KP042788']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('check digit is 1, the other characters give X');
    const j = await runCli(['vin', '--json', '1HGCM82633A00435I']);
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ valid: false, code: 'bad-character' });
  });
});
