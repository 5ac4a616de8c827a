// node:util in the playground: what the data reader uses.
export function promisify<A extends unknown[], R>(f: (...args: [...A, (e: Error | null, r?: R) => void]) => void): (...args: A) => Promise<R> {
  return (...args: A) => new Promise((resolve, reject) => f(...args, (e, r) => (e ? reject(e) : resolve(r as R))));
}
