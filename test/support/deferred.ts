// A promise plus its resolve/reject, so a test decides when a job (a fake kernel call, a store write)
// finishes, and can check what happens meanwhile.

export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets every queued callback and promise continuation run once (one macrotask turn). */
export function nextTurn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
