import { describe, expect, it } from 'vitest';
import { KeyedSerial } from '../../src/util/keyed-serial.js';

function gate(): { promise: Promise<void>; open: () => void } {
  let open = () => {};
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('KeyedSerial', () => {
  it('runs calls on one key one after another, even after a failure, and other keys alongside', async () => {
    const queue = new KeyedSerial();
    const order: string[] = [];
    const first = gate();
    const a1 = queue.run('a', async () => {
      order.push('a1 start');
      await first.promise;
      order.push('a1 end');
      throw new Error('a1 failed');
    });
    const a2 = queue.run('a', async () => {
      order.push('a2');
      return 2;
    });
    const b1 = queue.run('b', async () => {
      order.push('b1');
      return 'b';
    });
    await expect(b1).resolves.toBe('b');
    expect(order).toEqual(['a1 start', 'b1']);
    first.open();
    await expect(a1).rejects.toThrow('a1 failed');
    await expect(a2).resolves.toBe(2);
    expect(order).toEqual(['a1 start', 'b1', 'a1 end', 'a2']);
  });
});
