import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Hosts for the network suite: one Linux network namespace per host, each with a veth pair whose other
 * end is on a bridge in the root namespace (where the load generator runs). Faults are iptables rules
 * inside a host's namespace, so they touch nothing outside these namespaces (this kernel has no
 * sch_netem for tc). Needs root, ip, iptables, redis-server and PostgreSQL's binaries from Debian's packages.
 */

const PREFIX = 'smsnet';
const BRIDGE = `${PREFIX}-br`;
const SUBNET = '10.77.0';
export const GATEWAY = `${SUBNET}.1`;

export interface Host {
  name: string;
  namespace: string;
  /** The bridge end of its veth pair, in the root namespace. */
  bridgePort: string;
  address: string;
}

const HOST_NUMBERS = { pg: 10, redis: 11, a: 21, b: 22 } as const;
export type HostName = keyof typeof HOST_NUMBERS;

export function host(name: HostName): Host {
  return { name, namespace: `${PREFIX}-${name}`, bridgePort: `${PREFIX}-${name}-p`, address: `${SUBNET}.${HOST_NUMBERS[name]}` };
}

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

const tryRun = (command: string, args: string[]) => {
  try {
    run(command, args);
  } catch {
    // Cleaning up what may not exist (a run that failed half-way, or none before).
  }
};

const inHost = (h: Host, command: string, args: string[]) => run('ip', ['netns', 'exec', h.namespace, command, ...args]);

export function buildNetwork(): void {
  tearDownNetwork();
  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);
  for (const name of Object.keys(HOST_NUMBERS) as HostName[]) {
    const h = host(name);
    run('ip', ['netns', 'add', h.namespace]);
    run('ip', ['link', 'add', h.bridgePort, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.namespace]);
    run('ip', ['link', 'set', h.bridgePort, 'master', BRIDGE, 'up']);
    inHost(h, 'ip', ['addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
    inHost(h, 'ip', ['link', 'set', 'eth0', 'up']);
    inHost(h, 'ip', ['link', 'set', 'lo', 'up']);
  }
}

/** Stops run before the namespaces' processes are killed: PostgreSQL shut down, not left half-way. */
const stops: (() => void)[] = [];

/** Removes every namespace, link and folder of this suite, including a failed run's. */
export function tearDownNetwork(): void {
  for (const stop of stops.splice(0)) stop();
  for (const name of Object.keys(HOST_NUMBERS) as HostName[]) {
    const h = host(name);
    for (const pid of namespacePids(h)) tryRun('kill', ['-KILL', pid]);
    tryRun('ip', ['netns', 'del', h.namespace]);
    tryRun('ip', ['link', 'del', h.bridgePort]);
  }
  tryRun('ip', ['link', 'del', BRIDGE]);
  for (const entry of readdirSync(tmpdir())) if (entry.startsWith(`${PREFIX}-`)) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
}

/** Processes this suite started inside a host's namespace (and only those: the namespace is the suite's own). */
function namespacePids(h: Host): string[] {
  try {
    return run('ip', ['netns', 'pids', h.namespace]).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export interface HostProcess {
  child: ChildProcess;
  output: () => string;
  exited: boolean;
}

export function spawnIn(h: Host, command: string, args: string[], env: Record<string, string>, cwd?: string): HostProcess {
  const child = spawn('ip', ['netns', 'exec', h.namespace, command, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const started: HostProcess = { child, output: () => output, exited: false };
  child.stdout?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  child.stderr?.on('data', (chunk) => (output = (output + chunk).slice(-20_000)));
  child.on('exit', () => (started.exited = true));
  return started;
}

/** A private PostgreSQL cluster in a temp folder, owned by the postgres user, listening on the host's address. */
export function startPostgres(h: Host): { url: string } {
  const folder = mkdtempSync(join(tmpdir(), `${PREFIX}-pg-`));
  const { uid, gid } = postgresUser();
  chownSync(folder, uid, gid);
  const bin = join('/usr/lib/postgresql', readdirSync('/usr/lib/postgresql').sort().at(-1) ?? '', 'bin');
  const data = join(folder, 'data');
  const asPostgres = (command: string, args: string[]) => inHost(h, 'runuser', ['-u', 'postgres', '--', join(bin, command), ...args]);
  asPostgres('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
  appendFileSync(join(data, 'pg_hba.conf'), `host all all ${SUBNET}.0/24 trust\n`);
  const options = `-c listen_addresses=${h.address} -c port=5432 -c unix_socket_directories=${folder} -c fsync=off -c max_connections=200`;
  asPostgres('pg_ctl', ['-D', data, '-o', options, '-l', join(folder, 'log'), '-w', 'start']);
  // Fast, not immediate: an immediate stop leaves its shared memory segment behind.
  stops.push(() => tryRun('ip', ['netns', 'exec', h.namespace, 'runuser', '-u', 'postgres', '--', join(bin, 'pg_ctl'), '-D', data, '-m', 'fast', '-t', '10', 'stop']));
  return { url: `postgres://postgres@${h.address}:5432/postgres` };
}

function postgresUser(): { uid: number; gid: number } {
  return { uid: Number(run('id', ['-u', 'postgres'])), gid: Number(run('id', ['-g', 'postgres'])) };
}

export function startRedis(h: Host): { url: string } {
  spawnIn(h, 'redis-server', ['--bind', h.address, '--port', '6379', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {});
  return { url: `redis://${h.address}:6379` };
}

// Faults. Each is undone by its heal; tearDownNetwork removes whatever a failed run left.

/** Drops every packet between two hosts, both ways, without a reset: connections stay open, unanswered. */
export function partition(from: Host, to: Host): () => void {
  const rules = [
    ['INPUT', '-s', to.address, '-j', 'DROP'],
    ['OUTPUT', '-d', to.address, '-j', 'DROP'],
  ];
  for (const rule of rules) inHost(from, 'iptables', ['-I', ...rule]);
  return () => {
    for (const rule of rules) inHost(from, 'iptables', ['-D', ...rule]);
  };
}

/**
 * Drops a share of the packets on the host's link, both ways (`1` drops all: a link gone silent, its
 * connections left open). iptables' statistic match rather than tc netem: this kernel has no sch_netem.
 */
export function dropOnLink(h: Host, probability: number): () => void {
  const match = probability >= 1 ? [] : ['-m', 'statistic', '--mode', 'random', '--probability', String(probability)];
  const rules = [
    ['INPUT', '-i', 'eth0', ...match, '-j', 'DROP'],
    ['OUTPUT', '-o', 'eth0', ...match, '-j', 'DROP'],
  ];
  for (const rule of rules) inHost(h, 'iptables', ['-I', ...rule]);
  return () => {
    for (const rule of rules) inHost(h, 'iptables', ['-D', ...rule]);
  };
}

export const tempFolder = () => mkdtempSync(join(tmpdir(), `${PREFIX}-run-`));
