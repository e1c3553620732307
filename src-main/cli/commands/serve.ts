import path from 'node:path';
import { intFlag, parseFlags, THREADS_HELP, threadsFlag } from '../args';
import { startWebHost } from '../../web/server';
import { packageRoot } from '../../engine/paths';


export const HELP = `usage: convscope serve [--port N] [--host ADDRESS] [--allow-remote] [--open DIR ...] [--runs DIR]

Serves the ConvScope UI in a browser, with the engine in a child process. Open the printed URL (it carries
a random access token; keep it to yourself).
  --port N          default: a free port
  --host ADDRESS    default 127.0.0.1 (this machine only)
  --allow-remote    needed to listen on any address but loopback (e.g. to watch a run on a GPU box
                    from a laptop; an SSH tunnel to 127.0.0.1 is the safer way)
  --open DIR        a folder whose images, models and datasets the UI may open by path (repeatable);
                    a run folder, or the run folders in it, are listed with the runs (e.g. an exported PyTorch run)
  --runs DIR        where training runs are written and listed (default ./runs)
  --renderer DIR    the built UI (default out/renderer)
  --backend B       auto (default), gpu, webgpu, node, wasm or cpu
  --threads N       the engine's ${THREADS_HELP}`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    port: { type: 'string' },
    host: { type: 'string' },
    'allow-remote': { type: 'boolean' },
    open: { type: 'string', multiple: true },
    runs: { type: 'string' },
    renderer: { type: 'string' },
    backend: { type: 'string' },
    threads: { type: 'string' },
  });
  const host = await startWebHost({
    port: intFlag('port', values.port, 0, 0),
    host: values.host,
    allowRemote: values['allow-remote'],
    rendererDir: path.resolve(values.renderer ?? path.join(packageRoot(), 'out/renderer')),
    runsDir: path.resolve(values.runs ?? 'runs'),
    openFolders: (values.open ?? []).map((d) => path.resolve(d)),
    backend: values.backend,
    threads: threadsFlag(values.threads),
  });
  process.stdout.write(`ConvScope is serving at ${host.url}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.stderr.write('stopping (live runs write a checkpoint)\n');
  await host.close();
  return 0;
}
