import type { SerialPort } from 'serialport';
import { AdapterError } from './errors.js';

/**
 * Opens a serial device (or pty) for a source. A port that cannot be opened is the installer's
 * commonest mistake, so every driver reports it the same way: `no-adapter`, naming who asked.
 */
export async function openSerialPort(
  path: string,
  baudRate: number,
  who: string,
): Promise<SerialPort> {
  // Loaded on first use: serialport and its native binding cost an agent that reads only
  // SocketCAN several MB of RSS for nothing.
  const { SerialPort } = await import('serialport');
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) =>
    port.open((err) =>
      err
        ? reject(
            new AdapterError('no-adapter', `${who}: cannot open: ${err.message}`, { cause: err }),
          )
        : resolve(),
    ),
  );
  return port;
}
