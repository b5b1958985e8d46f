import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { KernelError, run } from './exec.js';
import { inNs, nsExists, nsKey, type NsRef } from './ns.js';

/**
 * Small nft transactions through one long-lived `nft -i` per namespace instead of an `nft -f`
 * process each. Measured here (kernel 6.18, nft 1.0.6, 10,000-service table): a process per
 * transaction costs 4-7 ms to start, and one that deleted anything then waits 8-15 ms more in
 * close() of its netlink socket (the kernel flushes its deferred-destroy work, an RCU grace
 * period, when any nfnetlink socket is released). A kept session applies the same 4-command
 * backend change in 0.4 ms p50 / 1.3 ms p99. The grace period is paid once, when the session ends.
 *
 * One input line is one transaction (nft parses a line into one batch; `;` separates commands),
 * so a plan whose commands are all single lines goes through the session; anything else (a chain
 * body over several lines, a very long line) keeps `nft -f`. After each line a sentinel command
 * that always fails (`list table` of a table that never exists) is written: its error on stderr
 * marks where the line's own output ends, so a transaction fails exactly when stderr has text
 * before the sentinel's.
 */
export interface NftSessionOptions {
  /** An idle session ends after this long (it holds its namespace open while it lives). */
  idleMs?: number;
  /** A session ends after this many transactions (nft's line editor keeps every line in memory). */
  maxTransactions?: number;
  /** Lines longer than this go through `nft -f` (the line editor reads stdin a byte at a time). */
  maxLineBytes?: number;
  /** A transaction with no answer after this long kills the session and fails. */
  timeoutMs?: number;
}

const DEFAULTS: Required<NftSessionOptions> = { idleMs: 1500, maxTransactions: 500, maxLineBytes: 16384, timeoutMs: 10_000 };
const SENTINEL_TABLE = 'vxmesh_nft_session_mark';

/** Joins plan commands into one session line, or undefined when they cannot be one line. */
export function sessionLine(commands: readonly string[], maxLineBytes: number): string | undefined {
  if (!commands.length) return undefined;
  // '#' starts a comment in nft, a tab completes and a backslash escapes in the line editor.
  if (commands.some((c) => /[\n\r\t#\\]/.test(c))) return undefined;
  const line = commands.join('; ');
  return Buffer.byteLength(line) <= maxLineBytes ? line : undefined;
}

/** The session ended before answering anything: nft without its interactive mode, or no namespace. */
class SessionNeverAnswered extends Error {}

/**
 * The session ended with this transaction in flight: whether it was applied is unknown, so the
 * caller should read the kernel and plan again (NftTableReconciler does, once).
 */
export class NftSessionLost extends KernelError {}

interface Pending {
  resolve: () => void;
  reject: (e: Error) => void;
  line: string;
}

/** One `nft -i` in one namespace; transactions run one after another. */
class NftSession {
  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly pending: Pending[] = [];
  private stderr = '';
  /** Transactions sent so far. */
  private sent = 0;
  private idle?: NodeJS.Timeout;
  private deadline?: NodeJS.Timeout;
  private answered = 0;
  private retiring = false;
  closed = false;

  constructor(
    ns: NsRef,
    private readonly opts: Required<NftSessionOptions>,
    private readonly onEnd: (s: NftSession) => void,
  ) {
    const [cmd, args] = inNs(ns, 'nft', ['-i']);
    // HOME points nowhere: the line editor would otherwise write its history file on exit.
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, HOME: '/nonexistent', TERM: 'dumb' },
    });
    this.child.stdout.resume();
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d: string) => this.onStderr(d));
    this.child.stdin.on('error', () => undefined);
    this.child.on('error', (e) => this.end(e));
    this.child.on('close', (code) => this.end(new Error(`nft -i exited (code ${code})`)));
    this.hold(false);
  }

  /** An idle session must not keep the agent's process alive; one with work in flight must. */
  private hold(on: boolean): void {
    for (const h of [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as unknown as { ref?: () => void; unref?: () => void }[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  get spent(): boolean {
    return this.sent >= this.opts.maxTransactions;
  }

  apply(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new NftSessionLost('nft: the session had ended', `nft -i: ${line}`, ''));
    clearTimeout(this.idle);
    this.sent++;
    return new Promise<void>((resolve, reject) => {
      if (!this.pending.length) this.hold(true);
      this.pending.push({ resolve, reject, line });
      this.child.stdin.write(`${line}\nlist table inet ${SENTINEL_TABLE}\n`);
      if (!this.deadline) this.armDeadline();
    });
  }

  /** Ends the session once what was sent is answered. */
  retire(): void {
    this.retiring = true;
    if (!this.pending.length) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.child.stdin.end();
    this.end(new Error('nft session closed'));
    // stdin closed: nft exits by itself; the kill is for one stuck in the kernel.
    setTimeout(() => this.child.kill('SIGKILL'), 2000).unref();
  }

  private armDeadline(): void {
    this.deadline = setTimeout(() => {
      this.child.kill('SIGKILL');
      this.end(new Error(`nft -i gave no answer within ${this.opts.timeoutMs} ms`));
    }, this.opts.timeoutMs);
    this.deadline.unref();
  }

  private onStderr(data: string): void {
    this.stderr += data;
    for (;;) {
      const head = this.pending[0];
      if (!head) return;
      const mark = this.stderr.search(SENTINEL_ERROR);
      if (mark < 0) return;
      const end = this.stderr.indexOf('\n', this.stderr.indexOf(SENTINEL_TABLE, mark) + SENTINEL_TABLE.length + 1);
      if (end < 0) return; // the caret line has not arrived yet
      const own = this.stderr.slice(0, mark).trim();
      this.stderr = this.stderr.slice(end + 1);
      this.pending.shift();
      this.answered++;
      clearTimeout(this.deadline);
      this.deadline = undefined;
      if (this.pending.length) this.armDeadline();
      else {
        this.hold(false);
        if (this.retiring) this.close();
        else this.armIdle();
      }
      // Warnings are not failures: only an "Error:" fails the transaction (and it was not applied).
      if (/(^|\n)Error: /.test(own)) head.reject(new KernelError(`nft: ${own}`, `nft -i: ${head.line}`, own));
      else head.resolve();
    }
  }

  private armIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => this.close(), this.opts.idleMs);
    this.idle.unref();
  }

  private end(cause: Error): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    clearTimeout(this.deadline);
    // Whether a line in flight was applied is unknown: the caller drops its cache and reads the kernel.
    for (const p of this.pending.splice(0)) {
      p.reject(this.answered ? new NftSessionLost(`nft: ${cause.message}`, `nft -i: ${p.line}`, this.stderr) : new SessionNeverAnswered(`${cause.message}: ${this.stderr.trim()}`));
    }
    this.onEnd(this);
  }
}

/** The sentinel's error: "Error: ...\nlist table inet <mark>\n<carets>\n" (at the start of stderr or of a line). */
const SENTINEL_ERROR = new RegExp(`(?:^|\\n)Error: [^\\n]*\\nlist table inet ${SENTINEL_TABLE}\\n`);

/**
 * Applies nft transactions per namespace, through a kept `nft -i` session when the transaction
 * is one line's worth, else through `nft -f`. Sessions end when idle, after maxTransactions, on
 * release(ns) and on closeAll().
 */
export class NftSessions {
  private readonly sessions = new Map<string, NftSession>();
  private readonly opts: Required<NftSessionOptions>;
  /** Off (`false` given), or a session never answered: nft -f from then on. */
  private unsupported: boolean;

  constructor(opts: NftSessionOptions | false = {}) {
    this.opts = { ...DEFAULTS, ...(opts || {}) };
    this.unsupported = opts === false;
  }

  /** Applies the commands as ONE transaction; a failure is a KernelError with nft's message. */
  async apply(ns: NsRef, commands: readonly string[]): Promise<void> {
    const line = this.unsupported ? undefined : sessionLine(commands, this.opts.maxLineBytes);
    if (line !== undefined) {
      try {
        await this.session(ns).apply(line);
        return;
      } catch (e) {
        if (!(e instanceof SessionNeverAnswered)) throw e;
        // Nothing answered: the line was not applied (or a fresh plan will find it applied).
        if (nsExists(ns)) this.unsupported = true;
      }
    }
    await run(...inNs(ns, 'nft', ['-f', '-']), commands.join('\n') + '\n');
  }

  /** Ends the namespace's session (it is going away, or should not be held open). */
  release(ns: NsRef): void {
    this.sessions.get(nsKey(ns))?.retire();
  }

  closeAll(): void {
    for (const s of [...this.sessions.values()]) s.retire();
  }

  private session(ns: NsRef): NftSession {
    const key = nsKey(ns);
    let s = this.sessions.get(key);
    if (s?.spent) {
      this.sessions.delete(key);
      s.retire();
      s = undefined;
    }
    if (!s) {
      const made: NftSession = new NftSession(ns, this.opts, (ended) => {
        if (this.sessions.get(key) === ended) this.sessions.delete(key);
      });
      this.sessions.set(key, made);
      s = made;
    }
    return s;
  }
}
