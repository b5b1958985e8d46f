/**
 * Runs calls that share a key one after another (each starts when the previous one settled, failed
 * or not); calls with different keys run concurrently. Holds nothing for a key with no call pending.
 */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const mine = (this.tails.get(key) ?? Promise.resolve()).then(fn, fn);
    this.tails.set(key, mine);
    const done = () => {
      if (this.tails.get(key) === mine) this.tails.delete(key);
    };
    mine.then(done, done);
    return mine;
  }
}
