/**
 * Coalesces requests for the same job: while a run is in flight, every new request waits for one
 * shared follow-up run, so N concurrent changes to one namespace cost two batches, not N.
 */
export class Coalescer {
  private readonly jobs = new Map<string, { running: Promise<void>; next?: Promise<void> }>();

  request(key: string, job: () => Promise<void>): Promise<void> {
    const cur = this.jobs.get(key);
    if (!cur) return this.start(key, job);
    if (!cur.next) {
      cur.next = cur.running.catch(() => undefined).then(() => {
        const j = this.jobs.get(key);
        if (j) j.next = undefined;
        return this.runNow(key, job);
      });
    }
    return cur.next;
  }

  private start(key: string, job: () => Promise<void>): Promise<void> {
    return this.runNow(key, job);
  }

  private runNow(key: string, job: () => Promise<void>): Promise<void> {
    const running = job();
    const entry = this.jobs.get(key);
    if (entry) entry.running = running;
    else this.jobs.set(key, { running });
    const clear = () => {
      const e = this.jobs.get(key);
      if (e && e.running === running && !e.next) this.jobs.delete(key);
    };
    running.then(clear, clear);
    return running;
  }
}
