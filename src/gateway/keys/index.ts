export {
  loadKeyRing,
  saveKeyRing,
  loadOrCreateKeyRing,
  rotateKeyRing,
  newKeyId,
  KEY_RING_FILE_MODE,
} from './key-ring-file';
export type { LoadKeyRingOptions } from './key-ring-file';
