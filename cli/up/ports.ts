/**
 * Ports of the services `blc up` starts. Each service binds its port itself and says which one it
 * got; nothing here probes a port and lets it go again for someone else to bind, because another
 * program can take a port in that moment. It never retries a port the user asked for by name.
 */
import net from 'node:net';

/** Where a service is to listen. */
export interface PortChoice {
  /** 0: any free port, chosen by the OS when the service binds. */
  port: number;
  /** When `port` is taken, listen on any free port instead (a default port, not one the user named). */
  orAnyFree: boolean;
}

/** A port the user named is taken: exit 1, with the option that chooses another. */
export class PortInUseError extends Error {
  readonly code = 'PORT_IN_USE';
}

/** The codes the services (Node's listen, the simulators, Azurite) report a taken port with. */
const IN_USE = new Set(['EADDRINUSE', 'GRAPH_SIM_PORT_IN_USE', 'AZURITE_PORT_IN_USE']);

export function isPortInUse(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && IN_USE.has(code);
}

/**
 * Starts a service with `start(port)` on the chosen port; a taken default port is given up for any
 * free one, a taken named port is a PortInUseError that names `option`.
 */
export async function startOnPort<T>(
  what: string,
  option: string,
  choice: PortChoice,
  start: (port: number) => Promise<T>,
): Promise<T> {
  try {
    return await start(choice.port);
  } catch (err) {
    if (!isPortInUse(err) || choice.port === 0) throw err;
    if (choice.orAnyFree) return start(0);
    throw new PortInUseError(
      `${what} cannot listen on port ${choice.port}: it is in use; choose another with ${option} (0 = any free port)`,
    );
  }
}

/**
 * A port that was free a moment ago, for a program that must be told its port before it binds
 * (a container's published port). Another program may take it before that one binds: prefer
 * port 0 wherever the program can bind it and report the port it got.
 */
export function pickPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const got = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(got));
    });
  });
}
