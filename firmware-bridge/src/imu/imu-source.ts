import {
  SerialLineSource,
  type LineDecoder,
  type SerialLineSourceOptions,
} from '../nmea/serial-line-source.js';
import { ImuDecoder, type ImuDecoderStats } from './decoder.js';

export interface ImuSourceOptions extends SerialLineSourceOptions {
  readonly now?: () => number;
  readonly maxDriftMs?: number;
}

/**
 * An IMU speaking the enginechain IMU line protocol (protocol.ts) on a serial port. Default
 * 115200 baud: 100 samples/s × ~50 bytes does not fit in 9600 baud.
 */
export class ImuSource extends SerialLineSource {
  readonly id: string;
  protected readonly protocolName = 'IMU';
  private decoder: ImuDecoder | undefined;

  constructor(options: ImuSourceOptions) {
    super({ baudRate: 115_200, silenceTimeoutMs: 2000, ...options });
    this.id = `imu:${options.path}`;
  }

  get stats(): ImuDecoderStats | undefined {
    return this.decoder?.stats;
  }

  protected newDecoder(): LineDecoder {
    const options = this.options as ImuSourceOptions;
    const decoder = new ImuDecoder({
      sourceId: this.id,
      now: options.now,
      maxDriftMs: options.maxDriftMs,
    });
    this.decoder = decoder;
    return {
      decode: (line) => {
        const { verdict, readings } = decoder.decodeLine(line);
        return { valid: verdict.kind === 'sample', readings };
      },
    };
  }
}
