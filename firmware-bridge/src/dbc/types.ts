/** The parsed content of a DBC file: what `parseDbc` returns and every decoder consumes. */

/** `@1` is Intel (little-endian, start bit = LSB), `@0` Motorola (big-endian, start bit = MSB). */
export type ByteOrder = 'intel' | 'motorola';

/** Integer signals unless `SIG_VALTYPE_` says IEEE float (1) or double (2). */
export type SignalValueType = 'integer' | 'float32' | 'float64';

export interface DbcSignal {
  readonly name: string;
  /** As written in the DBC: LSB for Intel, MSB in sawtooth numbering for Motorola. */
  readonly startBit: number;
  /** 1..64 bits. */
  readonly length: number;
  readonly byteOrder: ByteOrder;
  readonly signed: boolean;
  readonly factor: number;
  readonly offset: number;
  readonly minimum: number;
  readonly maximum: number;
  readonly unit: string;
  readonly receivers: readonly string[];
  /** True for the multiplexer switch (`M`). */
  readonly isMultiplexer: boolean;
  /** For a multiplexed signal (`m<N>`), the switch value that selects it. */
  readonly multiplexerValue?: number;
  readonly valueType: SignalValueType;
  /** `VAL_` table: raw value to its name. */
  readonly valueNames?: ReadonlyMap<number, string>;
  readonly comment?: string;
}

export interface DbcMessage {
  /** Identifier without the extended flag (bit 31 of the DBC id). */
  readonly id: number;
  readonly extended: boolean;
  readonly name: string;
  /** Payload length in bytes (DLC), up to 64 for CAN FD. */
  readonly length: number;
  readonly transmitter: string;
  readonly signals: readonly DbcSignal[];
  readonly comment?: string;
  /** From `BA_ "GenMsgCycleTime" BO_ <id> <ms>;` when present. */
  readonly cycleTimeMs?: number;
}

export interface DbcDatabase {
  readonly version: string;
  readonly nodes: readonly string[];
  readonly messages: readonly DbcMessage[];
  /** Things tolerated while parsing (a comment on an unknown message, a signal past the DLC). */
  readonly warnings: readonly string[];
}
