/**
 * How the repository's Ansible tasks link ~/.codex: one `file: state=link` task for the whole
 * folder (plan step 3 "Before") or one per entry ("After"). Read as text, without a YAML
 * library: list items, their own keys, block / flow / `k=v` arguments, quotes and `{{ … }}`.
 */
import type {Context} from '../context/types.js'
import {filesMentioningCodex, judgeProvisioning, type EntryLink, type FolderLink, type ProvisioningScan} from './provisioning.js'
import {noDotfiles} from './shared.js'
import type {Check} from './types.js'

const FILE_MODULES = new Set(['file', 'ansible.builtin.file', 'ansible.legacy.file'])

/** A task's argument as written (`raw`, quotes kept) and as Ansible reads it (`value`). */
export interface Arg {
  raw: string
  value: string
}

export interface FileTask {
  /** 0-based index of the `- ` line and of the task's last non-blank line. */
  first: number
  last: number
  /** Columns of the `-`, of the task's own keys, and of the module's arguments. */
  dashIndent: number
  keyIndent: number
  argIndent: number
  module: string
  args: Record<string, Arg>
  /** Items of `loop:` / `with_items:`, when they are plain scalars. */
  loop: string[]
}

/** Drops a `#` comment that stands outside quotes and `{{ }}`. */
function stripComment(line: string): string {
  let quote: string | null = null
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quote) {
      if (ch === quote) quote = null
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd()
  }
  return line.trimEnd()
}

export function unquote(raw: string): string {
  const v = raw.trim()
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1).replaceAll('\\"', '"').replaceAll('\\\\', '\\')
  if (v.length >= 2 && v.startsWith("'") && v.endsWith("'")) return v.slice(1, -1).replaceAll("''", "'")
  return v
}

/** Splits on `sep` outside quotes and `{{ }}` / `{ }` / `[ ]`. */
function splitTop(text: string, sep: RegExp): string[] {
  const parts: string[] = []
  let depth = 0
  let quote: string | null = null
  let current = ''
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = null
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '{' || ch === '[') depth++
    else if (ch === '}' || ch === ']') depth--
    else if (depth === 0 && sep.test(ch)) {
      if (current.trim() !== '') parts.push(current.trim())
      current = ''
      continue
    }
    current += ch
  }
  if (current.trim() !== '') parts.push(current.trim())
  return parts
}

const arg = (raw: string): Arg => ({raw: raw.trim(), value: unquote(raw)})

/** `{state: link, dest: "…"}` or `state=link dest="…"`. */
function inlineArgs(rest: string): Record<string, Arg> {
  const args: Record<string, Arg> = {}
  if (rest.startsWith('{') && rest.endsWith('}')) {
    for (const pair of splitTop(rest.slice(1, -1), /,/)) {
      const m = /^([\w.-]+)\s*:\s*(.*)$/.exec(pair)
      if (m) args[m[1]!] = arg(m[2]!)
    }
  } else {
    for (const pair of splitTop(rest, /\s/)) {
      const m = /^([\w.-]+)=(.*)$/.exec(pair)
      if (m) args[m[1]!] = arg(m[2]!)
    }
  }
  return args
}

const indentOf = (line: string) => line.length - line.trimStart().length

/** The `key: value` lines directly below `from` that are indented deeper than `indent`. */
function blockArgs(lines: readonly string[], from: number, to: number, indent: number): {args: Record<string, Arg>; indent: number; items: string[]} {
  const args: Record<string, Arg> = {}
  const items: string[] = []
  let own = -1
  for (let j = from; j < to; j++) {
    const line = lines[j]!
    if (line.trim() === '') continue
    const ind = indentOf(line)
    if (ind <= indent) break
    if (own === -1) own = ind
    if (ind !== own) continue
    const item = /^-\s+(.*)$/.exec(line.trim())
    if (item) items.push(unquote(item[1]!))
    const m = /^([\w.-]+)\s*:\s*(.*)$/.exec(line.trim())
    if (m) args[m[1]!] = arg(m[2]!)
  }
  return {args, indent: own, items}
}

/** Every task whose module is `file`, wherever it is nested (blocks, handlers, plays). */
export function fileTasks(text: string): FileTask[] {
  const lines = text.split('\n').map((l) => stripComment(l.replace(/\r$/, '')))
  const tasks: FileTask[] = []
  for (let i = 0; i < lines.length; i++) {
    const dash = /^(\s*)-(\s+)(\S.*)$/.exec(lines[i]!)
    if (!dash) continue
    const dashIndent = dash[1]!.length
    const keyIndent = dashIndent + 1 + dash[2]!.length
    let end = i + 1
    while (end < lines.length && (lines[end]!.trim() === '' || indentOf(lines[end]!) > dashIndent)) end++
    let last = end - 1
    while (last > i && lines[last]!.trim() === '') last--
    // the task's own keys: the first line's content and the lines at its column
    const own: {index: number; text: string}[] = [{index: i, text: dash[3]!}]
    for (let j = i + 1; j < end; j++) if (lines[j]!.trim() !== '' && indentOf(lines[j]!) === keyIndent) own.push({index: j, text: lines[j]!.trim()})
    const moduleLine = own.find((o) => FILE_MODULES.has(/^([\w.]+)\s*:/.exec(o.text)?.[1] ?? ''))
    if (!moduleLine) continue
    const [, module, rest] = /^([\w.]+)\s*:\s*(.*)$/.exec(moduleLine.text)!
    const block = blockArgs(lines, moduleLine.index + 1, end, keyIndent)
    const argsLine = own.find((o) => /^args\s*:/.test(o.text))
    const extra = argsLine ? blockArgs(lines, argsLine.index + 1, end, keyIndent).args : {}
    const loopLine = own.find((o) => /^(loop|with_items)\s*:/.test(o.text))
    let loop: string[] = []
    if (loopLine) {
      const inline = /^[\w]+\s*:\s*\[(.*)\]$/.exec(loopLine.text)
      loop = inline ? splitTop(inline[1]!, /,/).map(unquote) : blockArgs(lines, loopLine.index + 1, end, keyIndent).items
    }
    tasks.push({
      first: i,
      last,
      dashIndent,
      keyIndent,
      argIndent: rest!.trim() === '' && block.indent !== -1 ? block.indent : keyIndent + 2,
      module: module!,
      args: {...extra, ...(rest!.trim() === '' ? block.args : inlineArgs(rest!.trim()))},
      loop,
    })
  }
  return tasks
}

/** `"{{ home_dir }}/.codex"` + `config.toml` → `"{{ home_dir }}/.codex/config.toml"`, quotes kept. */
function appendPath(raw: string, entry: string): string {
  const q = raw[0]
  if ((q === '"' || q === "'") && raw.endsWith(q) && raw.length >= 2) return `${raw.slice(0, -1).replace(/\/$/, '')}/${entry}${q}`
  return `${raw.replace(/\/$/, '')}/${entry}`
}

const destOf = (task: FileTask) => task.args.dest ?? task.args.path ?? task.args.name

/** Plan step 3 "After": a real ~/.codex folder, then one link task per entry, indented as the original task. */
export function ansibleReplacement(task: FileTask, entries: readonly string[], codexDir: string): string {
  const dest = destOf(task)!.raw
  const src = task.args.src?.raw ?? `"{{ dotfiles_dir }}/${codexDir}"`
  const pad = ' '.repeat(task.dashIndent)
  const key = ' '.repeat(task.keyIndent - task.dashIndent - 1)
  const argPad = ' '.repeat(task.argIndent)
  const folder = [`${pad}-${key}name: Ensure ~/.codex directory exists`, `${pad} ${key}${task.module}:`, `${argPad}state: directory`, `${argPad}path: ${dest}`, `${argPad}mode: '0755'`]
  const links = entries.map((e) =>
    [
      `${pad}-${key}name: codex ${e} ${e.includes('.') ? 'is' : 'are'} symlinked`,
      `${pad} ${key}${task.module}:`,
      `${argPad}state: link`,
      `${argPad}dest: ${appendPath(dest, e)}`,
      `${argPad}src: ${appendPath(src, e)}`,
    ].join('\n'),
  )
  return [folder.join('\n'), ...links].join('\n\n')
}

export function scanAnsible(files: readonly {file: string; text: string}[], entries: readonly string[], codexDir: string): ProvisioningScan {
  const scan: ProvisioningScan = {folderLinks: [], entryLinks: []}
  for (const {file, text} of files) {
    const raw = text.split('\n')
    for (const task of fileTasks(text)) {
      const dest = destOf(task)?.value.replace(/\/+$/, '')
      if (task.args.state?.value !== 'link' || !dest) continue
      if (/(^|[/~}\s])\.codex$/.test(dest)) {
        const folder: FolderLink = {file, line: task.first + 1, endLine: task.last + 1, text: raw.slice(task.first, task.last + 1).join('\n'), replacement: ansibleReplacement(task, entries, codexDir)}
        scan.folderLinks.push(folder)
        continue
      }
      const entry = /(?:^|[/~}\s])\.codex\/(.+)$/.exec(dest)?.[1]
      if (!entry) continue
      const names = /\{\{\s*item\s*\}\}/.test(entry) && task.loop.length > 0 ? task.loop.map((item) => entry.replace(/\{\{\s*item\s*\}\}/, item)) : [entry]
      for (const name of names) scan.entryLinks.push({file, line: task.first + 1, entry: name} satisfies EntryLink)
    }
  }
  return scan
}

export const ansible: Check = {
  id: 'ansible',
  title: 'Ansible links ~/.codex entry by entry',
  async run(ctx: Context) {
    if (!ctx.dotfiles) return noDotfiles(ctx)
    const files = await filesMentioningCodex(ctx.dotfiles, ['.yml', '.yaml'], ctx.env)
    const scan = scanAnsible(files, ctx.config.links, ctx.config.codex_dir)
    return judgeProvisioning('Ansible', ctx.dotfiles, scan, {
      step: 'Plan step 3: make ~/.codex a real folder and link each managed entry with its own task, then run the playbook.',
      entryFix: 'Link each entry of ~/.codex with a file task (state: link) whose src is the repository\'s entry.',
    })
  },
}
