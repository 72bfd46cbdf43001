export {
  SECP256K1_N,
  sha256,
  isLowS,
  normalizeLowS,
  signEs256k,
  verifyEs256k,
  compressPublicKey,
  secp256k1PublicKeyObject,
  type Secp256k1PublicKey,
} from './secp256k1.js';
export {
  DEVICE_ID_BYTES,
  deviceIdFromPublicKey,
  deviceIdBytesFromPublicKey,
  deviceKeyFromPrivateKey,
  generateDeviceKey,
  type DeviceKey,
} from './device-key.js';
export {
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  deviceKeyPaths,
  writeDeviceKey,
  loadDeviceKey,
  readSecretFile,
  writeFileAtomic,
  loadPublicKeyFile,
  privateKeyToPem,
  privateKeyFromPem,
  publicKeyToPem,
  publicKeyFromPem,
  type DeviceKeyPaths,
} from './key-file.js';
export { KeyFileError, KEY_ERROR_CODES, type KeyErrorCode } from './key-error.js';
