/** What the nix and ansible checks share: how a provisioning file links ~/.codex, and the verdict on it. */
import {readFile} from 'node:fs/promises'
import path from 'node:path'

import {repoFilesWith, repoPath} from './repo-files.js'
import {listSome} from './shared.js'
import type {Outcome} from './types.js'

/** A place that links the whole ~/.codex folder (plan: the old way), with what should stand there instead. */
export interface FolderLink {
  /** Absolute path of the file. */
  file: string
  /** 1-based first and last line of the statement or task. */
  line: number
  endLine: number
  text: string
  /** Lines to put in place of `line`…`endLine`, indented as the original. */
  replacement: string
}

/** A place that links one entry of ~/.codex (`config.toml`, `prompts`…). */
export interface EntryLink {
  file: string
  line: number
  entry: string
  /** Why this link does not work as intended; `fail` when Codex cannot write through it. */
  problem?: {severity: 'fail' | 'warn'; text: string}
}

export interface ProvisioningScan {
  folderLinks: FolderLink[]
  entryLinks: EntryLink[]
}

const MAX_FILE_BYTES = 1024 * 1024

/** The repository's files with those extensions that mention `.codex`, with their text. */
export async function filesMentioningCodex(repo: string, extensions: readonly string[], env: NodeJS.ProcessEnv): Promise<{file: string; text: string}[]> {
  const out: {file: string; text: string}[] = []
  for (const rel of await repoFilesWith(repo, extensions, env)) {
    const file = path.join(repo, rel)
    let buffer: Buffer
    try {
      buffer = await readFile(file)
    } catch {
      continue // deleted but still in the index, or unreadable: nothing to judge
    }
    if (buffer.length > MAX_FILE_BYTES) continue
    const text = buffer.toString('utf8')
    if (text.includes('.codex')) out.push({file, text})
  }
  return out
}


/** Lines of text, each indented by `pad` (for a block inside a remediation). */
export const indentBlock = (text: string, pad: string) =>
  text
    .split('\n')
    .map((l) => (l === '' ? l : pad + l))
    .join('\n')

/** The block with the indentation all its lines share removed. */
export function dedent(text: string): string {
  const lines = text.split('\n')
  const pad = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length))
  return lines.map((l) => l.slice(Number.isFinite(pad) ? pad : 0)).join('\n')
}

/** Leading whitespace of the line on which `offset` stands. */
export function indentAt(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(start))![0]
}

/** The shared verdict: a whole-folder link fails with its replacement; entries one by one pass unless one is broken. */
export function judgeProvisioning(tool: 'Nix' | 'Ansible', repo: string, scan: ProvisioningScan, advice: {step: string; entryFix: string}): Outcome {
  const at = (f: {file: string; line: number}) => `${repoPath(repo, f.file)}:${f.line}`
  const details = {
    folderLinks: scan.folderLinks.map((f) => ({file: f.file, line: f.line, endLine: f.endLine, text: f.text, replacement: f.replacement})),
    entries: scan.entryLinks.map((e) => ({file: e.file, line: e.line, entry: e.entry, ...(e.problem ? {problem: e.problem.text} : {})})),
    ...(scan.folderLinks[0] ? {replacement: scan.folderLinks[0].replacement} : {}),
  }
  if (scan.folderLinks.length > 0) {
    const blocks = scan.folderLinks.map(
      (f) => `In ${repoPath(repo, f.file)}, replace ${f.line === f.endLine ? `line ${f.line}` : `lines ${f.line}-${f.endLine}`} with:\n${indentBlock(dedent(f.replacement), '      ')}`,
    )
    return {
      status: 'fail',
      summary: `${listSome(scan.folderLinks.map(at))} ${scan.folderLinks.length === 1 ? 'links' : 'link'} the whole ~/.codex folder; link its entries one by one`,
      details,
      remediation: {text: `${advice.step} Codex's own state then stays in ~/.codex, out of the repository.\n    ${blocks.join('\n    ')}`, commands: []},
    }
  }
  const failing = scan.entryLinks.filter((e) => e.problem?.severity === 'fail')
  const warning = scan.entryLinks.filter((e) => e.problem?.severity === 'warn')
  const broken = [...failing, ...warning]
  if (broken.length > 0) {
    return {
      status: failing.length > 0 ? 'fail' : 'warn',
      summary: broken.map((e) => `${at(e)} ${e.problem!.text}`).join('; '),
      details,
      remediation: {text: advice.entryFix, commands: []},
    }
  }
  if (scan.entryLinks.length === 0) return {status: 'skip', summary: `no ${tool} file links .codex`, details}
  const entries = [...new Set(scan.entryLinks.map((e) => e.entry))]
  const files = [...new Set(scan.entryLinks.map((e) => repoPath(repo, e.file)))]
  return {status: 'pass', summary: `${listSome(files)} ${files.length === 1 ? 'links' : 'link'} ~/.codex entry by entry: ${listSome(entries, 5)}`, details}
}
