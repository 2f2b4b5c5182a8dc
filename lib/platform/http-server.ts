// The HTTP listener: the one place Sluice calls Bun.serve.

export interface HttpServer {
  readonly port: number;
  readonly hostname: string;
  /** Stops accepting; resolves when in-flight requests have finished. */
  stop(): Promise<void>;
}

export function startHttpServer(options: {
  fetch: (request: Request) => Response | Promise<Response>;
  port: number;
  hostname: string;
}): HttpServer {
  const server = Bun.serve({ fetch: options.fetch, port: options.port, hostname: options.hostname });
  return {
    port: server.port ?? options.port,
    hostname: server.hostname ?? options.hostname,
    stop: () => server.stop(),
  };
}
