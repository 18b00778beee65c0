/** Port helpers for `blc up`: prefer a well-known port, fall back to a free one, wait for a listener. */
import net from 'node:net';

function tryListen(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen(port, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}

/** `preferred` when nothing listens there (0 = no preference), else a free port. */
export async function pickPort(preferred: number): Promise<number> {
  if (preferred > 0 && (await tryListen(preferred)) !== undefined) return preferred;
  const free = await tryListen(0);
  if (free === undefined) throw new Error('No free TCP port on 127.0.0.1.');
  return free;
}

export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listened on port ${port} within ${timeoutMs} ms`);
}
