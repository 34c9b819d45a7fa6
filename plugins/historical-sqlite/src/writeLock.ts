/**
 * Runs asynchronous write tasks one at a time, in call order. The warm tier's writes hold a SQLite
 * transaction open across awaits (so a large source never blocks the event loop for long); nothing
 * else may use the write connection until that transaction ends.
 */
export class WriteLock {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Lets other callbacks run before the next slice of work. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
