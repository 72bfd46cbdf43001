import { DbcError } from './errors.js';
import type { ByteOrder, DbcDatabase, DbcMessage, DbcSignal, SignalValueType } from './types.js';

type TokenKind = 'ident' | 'number' | 'string' | 'punct';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly line: number;
  /** 0 when the token starts its line (used to find the end of the `NS_` keyword list). */
  readonly col: number;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const PUNCT = ':;|@()[],+-';

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  let lineStart = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i] as string;
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\uFEFF') {
      i++;
      continue;
    }
    const col = i - lineStart;
    if (c === '"') {
      const startLine = line;
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw new DbcError('syntax', `line ${startLine}: unterminated string`);
        const d = text[i] as string;
        if (d === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
          continue;
        }
        if (d === '"') break;
        if (d === '\n') {
          line++;
          lineStart = i + 1;
        }
        value += d;
        i++;
      }
      i++;
      tokens.push({ kind: 'string', text: value, line: startLine, col });
      continue;
    }
    // A sign is part of a number only when a digit follows (`@0-` is order then sign).
    if (
      (c >= '0' && c <= '9') ||
      c === '.' ||
      ((c === '-' || c === '+') && /[\d.]/.test(text[i + 1] ?? ''))
    ) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m) {
        tokens.push({ kind: 'number', text: m[0], line, col });
        i += m[0].length;
        continue;
      }
    }
    IDENT.lastIndex = i;
    const id = IDENT.exec(text);
    if (id) {
      tokens.push({ kind: 'ident', text: id[0], line, col });
      i += id[0].length;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line, col });
      i++;
      continue;
    }
    throw new DbcError('syntax', `line ${line}: unexpected character ${JSON.stringify(c)}`);
  }
  return tokens;
}

/** Statements that end with `;` and carry nothing a decoder needs: skipped, not rejected. */
const TOLERATED = new Set([
  'BA_DEF_',
  'BA_DEF_DEF_',
  'BA_DEF_SGTYPE_',
  'BA_SGTYPE_',
  'BA_DEF_REL_',
  'BA_REL_',
  'BA_DEF_DEF_REL_',
  'VAL_TABLE_',
  'SIG_GROUP_',
  'SIG_TYPE_REF_',
  'SIGTYPE_VALTYPE_',
  'SGTYPE_',
  'SGTYPE_VAL_',
  'SG_MUL_VAL_',
  'BO_TX_BU_',
  'EV_',
  'ENVVAR_DATA_',
  'CAT_DEF_',
  'CAT_',
  'FILTER',
  'BU_SG_REL_',
  'BU_EV_REL_',
  'BU_BO_REL_',
  'EV_DATA_',
  'NS_DESC_',
]);

type MutableSignal = {
  -readonly [K in keyof DbcSignal]: DbcSignal[K];
};
interface MutableMessage extends Omit<DbcMessage, 'signals' | 'comment' | 'cycleTimeMs'> {
  signals: MutableSignal[];
  comment?: string;
  cycleTimeMs?: number;
}

const EXTENDED_FLAG = 0x80000000;
/** Vector's pseudo-message holding signals that belong to no message; not a bus message. */
const INDEPENDENT_SIGNALS_ID = 0xc0000000;

class Parser {
  private pos = 0;
  readonly messages: MutableMessage[] = [];
  private readonly byKey = new Map<number, MutableMessage>();
  readonly warnings: string[] = [];
  version = '';
  nodes: string[] = [];

  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }

  private fail(message: string, token = this.peek()): never {
    const where = token ? `line ${token.line}` : 'end of file';
    throw new DbcError(
      'syntax',
      `${where}: ${message}${token ? ` (found ${JSON.stringify(token.text)})` : ''}`,
    );
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (!t) this.fail('unexpected end of file');
    this.pos++;
    return t;
  }

  private expectPunct(p: string): void {
    const t = this.peek();
    if (!t || t.kind !== 'punct' || t.text !== p) this.fail(`expected ${JSON.stringify(p)}`);
    this.pos++;
  }

  private expectKind(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (!t || t.kind !== kind) this.fail(`expected ${what}`);
    this.pos++;
    return t;
  }

  private number(what: string): number {
    const t = this.expectKind('number', what);
    const v = Number(t.text);
    if (!Number.isFinite(v)) this.fail(`${what} is not a finite number`, t);
    return v;
  }

  private integer(what: string): number {
    const t = this.peek();
    const v = this.number(what);
    if (!Number.isInteger(v)) this.fail(`${what} must be an integer`, t);
    return v;
  }

  private skipStatement(): void {
    while (this.pos < this.tokens.length) {
      const t = this.next();
      if (t.kind === 'punct' && t.text === ';') return;
    }
    this.fail('statement not terminated by ";"');
  }

  private skipLine(line: number): void {
    while (this.peek() && this.peek()!.line === line) this.pos++;
  }

  parse(): void {
    while (this.pos < this.tokens.length) {
      const t = this.next();
      if (t.kind !== 'ident') this.fail('expected a keyword', t);
      switch (t.text) {
        case 'VERSION':
          this.version = this.expectKind('string', 'version string').text;
          break;
        case 'NS_':
          this.expectPunct(':');
          // The keyword list runs on indented lines until the next statement at column 0.
          while (
            this.peek()?.kind === 'ident' &&
            (this.peek()!.line === t.line || this.peek()!.col > 0)
          )
            this.pos++;
          break;
        case 'BS_':
          this.expectPunct(':');
          this.skipLine(t.line);
          break;
        case 'BU_': {
          this.expectPunct(':');
          const line = this.tokens[this.pos - 1]!.line;
          while (this.peek()?.kind === 'ident' && this.peek()!.line === line)
            this.nodes.push(this.next().text);
          break;
        }
        case 'BO_':
          this.message(t);
          break;
        case 'SG_':
          this.signal(t);
          break;
        case 'CM_':
          this.comment();
          break;
        case 'VAL_':
          this.valueTable();
          break;
        case 'BA_':
          this.attribute();
          break;
        case 'SIG_VALTYPE_':
          this.signalValueType();
          break;
        default:
          if (TOLERATED.has(t.text)) this.skipStatement();
          else this.fail('unknown keyword', t);
      }
    }
  }

  private message(keyword: Token): void {
    const rawIdToken = this.peek();
    const rawId = this.integer('message id');
    const name = this.expectKind('ident', 'message name').text;
    this.expectPunct(':');
    const length = this.integer('message length');
    let transmitter = '';
    if (this.peek()?.kind === 'ident' && this.peek()!.line === keyword.line)
      transmitter = this.next().text;
    if (rawId === INDEPENDENT_SIGNALS_ID) {
      // Its SG_ lines follow; park them on a message nobody can receive.
      this.current = { id: -1, extended: false, name, length, transmitter, signals: [] };
      return;
    }
    if (rawId < 0 || rawId > 0xffffffff) this.fail('message id out of range', rawIdToken);
    const extended = rawId >= EXTENDED_FLAG;
    const id = extended ? rawId - EXTENDED_FLAG : rawId;
    if (extended && id > 0x1fffffff)
      this.fail('extended message id has bits above 29 set', rawIdToken);
    if (!extended && id > 0x7ff) {
      this.fail(
        'standard message id above 0x7FF (extended ids carry bit 31, 0x80000000)',
        rawIdToken,
      );
    }
    if (length < 0 || length > 64) this.fail('message length must be 0..64 bytes', rawIdToken);
    const key = messageKey(id, extended);
    if (this.byKey.has(key))
      throw new DbcError('duplicate', `line ${keyword.line}: message id ${rawId} defined twice`);
    if (this.messages.some((m) => m.name === name)) {
      throw new DbcError('duplicate', `line ${keyword.line}: message name ${name} defined twice`);
    }
    const message: MutableMessage = { id, extended, name, length, transmitter, signals: [] };
    this.messages.push(message);
    this.byKey.set(key, message);
    this.current = message;
  }

  private current: MutableMessage | undefined;

  private signal(keyword: Token): void {
    const message = this.current;
    if (!message) this.fail('SG_ before any BO_', keyword);
    const name = this.expectKind('ident', 'signal name').text;
    let isMultiplexer = false;
    let multiplexerValue: number | undefined;
    if (this.peek()?.kind === 'ident') {
      const mux = this.next();
      const m = /^(?:(M)|m(\d+)(M?))$/.exec(mux.text);
      if (!m) this.fail('expected M or m<N> multiplexer indicator', mux);
      if (m[1]) isMultiplexer = true;
      else {
        multiplexerValue = Number(m[2]);
        isMultiplexer = m[3] === 'M';
      }
    }
    this.expectPunct(':');
    const startBit = this.integer('start bit');
    this.expectPunct('|');
    const length = this.integer('signal length');
    this.expectPunct('@');
    const orderToken = this.peek();
    const order = this.integer('byte order');
    if (order !== 0 && order !== 1)
      this.fail('byte order must be 0 (Motorola) or 1 (Intel)', orderToken);
    const signToken = this.next();
    if (signToken.kind !== 'punct' || (signToken.text !== '+' && signToken.text !== '-')) {
      this.fail('expected + (unsigned) or - (signed)', signToken);
    }
    this.expectPunct('(');
    const factor = this.number('factor');
    this.expectPunct(',');
    const offset = this.number('offset');
    this.expectPunct(')');
    this.expectPunct('[');
    const minimum = this.number('minimum');
    this.expectPunct('|');
    const maximum = this.number('maximum');
    this.expectPunct(']');
    const unit = this.expectKind('string', 'unit string').text;
    const receivers: string[] = [];
    const line = this.tokens[this.pos - 1]!.line;
    while (this.peek()?.kind === 'ident' && this.peek()!.line === line) {
      receivers.push(this.next().text);
      if (this.peek()?.text === ',' && this.peek()!.kind === 'punct') this.pos++;
    }
    const byteOrder: ByteOrder = order === 1 ? 'intel' : 'motorola';
    const where = `line ${keyword.line}: ${message.name}.${name}`;
    if (length < 1 || length > 64)
      throw new DbcError('bad-signal', `${where}: length ${length} must be 1..64`);
    if (startBit < 0 || startBit > 511)
      throw new DbcError('bad-signal', `${where}: start bit ${startBit} must be 0..511`);
    const [first, last] = signalByteRange(startBit, length, byteOrder);
    if (first < 0 || last > 63)
      throw new DbcError('bad-signal', `${where}: bits fall outside a 64-byte payload`);
    if (last >= message.length && message.id !== -1) {
      this.warnings.push(`${where}: ends in byte ${last}, past the ${message.length}-byte message`);
    }
    if (message.signals.some((s) => s.name === name)) {
      throw new DbcError('duplicate', `${where}: signal defined twice in the message`);
    }
    const signal: MutableSignal = {
      name,
      startBit,
      length,
      byteOrder,
      signed: signToken.text === '-',
      factor,
      offset,
      minimum,
      maximum,
      unit,
      receivers,
      isMultiplexer,
      valueType: 'integer',
    };
    if (multiplexerValue !== undefined) signal.multiplexerValue = multiplexerValue;
    message.signals.push(signal);
  }

  private findMessage(rawId: number): MutableMessage | undefined {
    const extended = rawId >= EXTENDED_FLAG;
    return this.byKey.get(messageKey(extended ? rawId - EXTENDED_FLAG : rawId, extended));
  }

  private findSignal(
    rawId: number,
    name: string,
    what: string,
    line: number,
  ): MutableSignal | undefined {
    const message = this.findMessage(rawId);
    const signal = message?.signals.find((s) => s.name === name);
    if (!signal && rawId !== INDEPENDENT_SIGNALS_ID) {
      this.warnings.push(`line ${line}: ${what} for unknown signal ${rawId} ${name} ignored`);
    }
    return signal;
  }

  private comment(): void {
    const t = this.peek();
    if (t?.kind === 'ident' && t.text === 'BO_') {
      this.pos++;
      const id = this.integer('message id');
      const text = this.expectKind('string', 'comment string').text;
      const message = this.findMessage(id);
      if (message) message.comment = text;
      else if (id !== INDEPENDENT_SIGNALS_ID)
        this.warnings.push(`line ${t.line}: comment for unknown message ${id} ignored`);
    } else if (t?.kind === 'ident' && t.text === 'SG_') {
      this.pos++;
      const id = this.integer('message id');
      const name = this.expectKind('ident', 'signal name').text;
      const text = this.expectKind('string', 'comment string').text;
      const signal = this.findSignal(id, name, 'comment', t.line);
      if (signal) signal.comment = text;
    } else if (t?.kind === 'ident' && (t.text === 'BU_' || t.text === 'EV_')) {
      this.pos += 2;
      this.expectKind('string', 'comment string');
    } else {
      this.expectKind('string', 'comment string');
    }
    this.expectPunct(';');
  }

  private valueTable(): void {
    const t = this.peek();
    if (t?.kind !== 'number') {
      // `VAL_ <environment variable> ...;`: not about frames.
      this.skipStatement();
      return;
    }
    const id = this.integer('message id');
    const name = this.expectKind('ident', 'signal name').text;
    const values = new Map<number, string>();
    while (this.peek()?.kind === 'number') {
      const raw = this.number('value');
      values.set(raw, this.expectKind('string', 'value description').text);
    }
    this.expectPunct(';');
    const signal = this.findSignal(id, name, 'VAL_', t.line);
    if (signal) signal.valueNames = values;
  }

  private attribute(): void {
    const start = this.peek();
    if (
      start?.kind === 'string' &&
      start.text === 'GenMsgCycleTime' &&
      this.peek(1)?.text === 'BO_' &&
      this.peek(2)?.kind === 'number' &&
      this.peek(3)?.kind === 'number'
    ) {
      this.pos += 2;
      const id = this.integer('message id');
      const ms = this.number('cycle time');
      const message = this.findMessage(id);
      if (message && ms > 0) message.cycleTimeMs = ms;
      this.expectPunct(';');
      return;
    }
    this.skipStatement();
  }

  private signalValueType(): void {
    const t = this.peek();
    const id = this.integer('message id');
    const name = this.expectKind('ident', 'signal name').text;
    if (this.peek()?.text === ':') this.pos++;
    const kindToken = this.peek();
    const kind = this.integer('value type');
    this.expectPunct(';');
    const signal = this.findSignal(id, name, 'SIG_VALTYPE_', t?.line ?? 0);
    if (!signal) return;
    const types: Record<number, SignalValueType> = { 0: 'integer', 1: 'float32', 2: 'float64' };
    const valueType = types[kind];
    if (!valueType) this.fail('value type must be 0, 1 (float) or 2 (double)', kindToken);
    const bits = valueType === 'float32' ? 32 : valueType === 'float64' ? 64 : signal.length;
    if (bits !== signal.length) {
      throw new DbcError(
        'bad-signal',
        `line ${t?.line}: ${name} is ${signal.length} bits, ${valueType} needs ${bits}`,
      );
    }
    signal.valueType = valueType;
  }
}

/** One number per (id, extended) pair: extended ids live above the 29-bit range. */
export function messageKey(id: number, extended: boolean): number {
  return extended ? id + 0x20000000 : id;
}

/** First and last payload byte a signal touches. */
export function signalByteRange(
  startBit: number,
  length: number,
  byteOrder: ByteOrder,
): [number, number] {
  if (byteOrder === 'intel') return [startBit >> 3, (startBit + length - 1) >> 3];
  // Motorola: count bits MSB-first across the payload ("big-endian linear" numbering).
  const msb = (startBit >> 3) * 8 + (7 - (startBit & 7));
  return [msb >> 3, (msb + length - 1) >> 3];
}

/**
 * Parses DBC text (Vector's format as opendbc writes it) into messages and signals. Throws a
 * `DbcError` naming the line on anything it cannot read; tolerated statements (attributes,
 * value tables, signal groups…) are skipped, dangling comments become `warnings`.
 */
export function parseDbc(text: string): DbcDatabase {
  if (typeof text !== 'string') throw new DbcError('bad-input', 'text must be a string');
  const parser = new Parser(tokenize(text));
  parser.parse();
  return {
    version: parser.version,
    nodes: parser.nodes,
    messages: parser.messages,
    warnings: parser.warnings,
  };
}
