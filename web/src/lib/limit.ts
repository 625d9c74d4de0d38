// At most `n` tasks at once. Downloads of one page share one, so a page never holds
// more than a couple of grpc-web streams (browsers allow ~6 HTTP/1.1 connections).
export function limiter(n: number) {
  let running = 0;
  const queue: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (running >= n) await new Promise<void>((resolve) => queue.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      queue.shift()?.();
    }
  };
}

export const downloads = limiter(2);
