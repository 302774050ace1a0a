/**
 * Reading a password for `stead login` and `stead users`: from --password-file (a file others
 * cannot read, or /dev/stdin), from a prompt without echo on a terminal, or from piped stdin.
 * One line; the trailing newline is dropped. Bounded at 1024 bytes like the server.
 */
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError, type CliIo } from '../io.js';

const MAX = 1024;

function oneLine(text: string, from: string): string {
  const line = text.replace(/\r?\n$/, '');
  if (line.includes('\n')) throw new UsageError(`${from} holds more than one line; a password is one line`);
  if (line === '') throw new UsageError(`${from} is empty`);
  if (Buffer.byteLength(line) > MAX) throw new UsageError(`${from}: a password is at most ${MAX} bytes`);
  return line;
}

async function readStream(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(String(c));
    size += b.length;
    if (size > MAX + 2) throw new UsageError(`stdin: a password is at most ${MAX} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A prompt on the terminal with echo off (raw mode); Ctrl-C aborts. */
async function prompt(io: CliIo, question: string): Promise<string> {
  const stdin = io.stdin!;
  io.stderr.write(question);
  stdin.setRawMode!(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolvePromise, reject) => {
      let text = '';
      const onData = (d: Buffer | string): void => {
        for (const ch of String(d)) {
          if (ch === '\r' || ch === '\n') {
            stdin.removeListener('data', onData);
            io.stderr.write('\n');
            resolvePromise(text);
            return;
          }
          if (ch === '\u0003') {
            stdin.removeListener('data', onData);
            reject(new UsageError('interrupted'));
            return;
          }
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else if (text.length < MAX) text += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode!(false);
    stdin.pause();
  }
}

export async function readPassword(io: CliIo, file: string | undefined, question: string): Promise<string> {
  if (file !== undefined) {
    if (file === '-' || file === '/dev/stdin') {
      if (!io.stdin) throw new UsageError('no stdin to read the password from');
      return oneLine(await readStream(io.stdin), 'stdin');
    }
    const path = resolve(io.cwd, file);
    const st = await fsp.stat(path).catch(() => undefined);
    if (!st?.isFile()) throw new UsageError(`--password-file ${file}: no such file`);
    if ((st.mode & 0o004) !== 0) throw new UsageError(`--password-file ${file} is readable by other users; fix: chmod 600 ${file}`);
    if (st.size > MAX + 2) throw new UsageError(`--password-file ${file}: a password is at most ${MAX} bytes`);
    return oneLine(await fsp.readFile(path, 'utf8'), `--password-file ${file}`);
  }
  if (!io.stdin) throw new UsageError('give --password-file FILE (no terminal to ask on)');
  if (io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function') return oneLine(await prompt(io, question), 'the password');
  return oneLine(await readStream(io.stdin), 'stdin');
}
