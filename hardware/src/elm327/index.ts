export * from './server.js';
export * from './faults.js';
export { Elm327Session, isoTpFrames, type SessionOptions, type SessionReply } from './session.js';
export {
  vehicleEcus,
  supportBitmap,
  encodeDtc,
  type EmulatedEcu,
  type PidEncoder,
} from './vehicle-ecus.js';
