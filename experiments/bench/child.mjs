// A `pbrl` command run by a bench executor (experiments/bench/cell.ts). It is `bin/pbrl.js` plus one
// rule: stdin is a pipe from the executor, and when it closes (the executor or worker died, even by
// SIGKILL) this process ends at once. Otherwise a killed queue worker would leave its training
// running while another worker takes the job over and writes the same cell directory.
process.stdin.on('end', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.on('error', () => process.kill(process.pid, 'SIGKILL'));
process.stdin.resume();
await import('../../bin/pbrl.js');
// The command has finished (cli.ts awaits it); the open stdin pipe would keep the process alive.
process.exit(process.exitCode ?? 0);
