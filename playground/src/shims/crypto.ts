// node:crypto in the playground: the spec hash a saved model records (SHA-256 by @noble/hashes is not
// bundled; the playground saves no model files), and the random suffix of a temporary file name.
export function createHash(_algorithm: string): never {
  throw new Error("the playground does not hash files");
}
export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
