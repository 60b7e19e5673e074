import {Flags} from '@oclif/core'
import {createHash} from 'node:crypto'
import {lstat, readdir, readFile, readlink, rm} from 'node:fs/promises'
import path from 'node:path'
import pc from 'picocolors'

import {findOnPath} from '../context/codex.js'
import {buildOldLayout, type DemoMachine} from '../demo/old-layout.js'
import {run} from '../process.js'
import {wantColor} from '../report/human.js'
import {packageRoot} from '../version.js'
import {BaseCommand} from './base.js'

/** bin/run.js of this package: the package.json is read when the demo runs, not when oclif loads the commands. */
const runJs = () => path.join(packageRoot(), 'bin', 'run.js')

/** type, mode, link target and content hash of every path under `dir`: "exactly as before" made checkable. */
export async function fingerprint(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (d: string): Promise<void> => {
    for (const name of (await readdir(d)).sort()) {
      const full = path.join(d, name)
      const st = await lstat(full)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out.set(full, `link ${await readlink(full)}`)
      else if (st.isDirectory()) {
        out.set(full, `dir ${mode}`)
        await walk(full)
      } else out.set(full, `file ${mode} ${createHash('sha256').update(await readFile(full)).digest('hex')}`)
    }
  }
  await walk(dir)
  return out
}

export default class Demo extends BaseCommand {
  static override summary = 'The whole story in a throwaway sandbox: old layout → check → fix → check → undo.'

  static override description = `Builds a machine in the old layout in the temp folder (~/.codex linked to the dotfiles repository, with sessions, history and an auth.json inside the repository), then runs codex-doctor, codex-doctor --fix, codex-doctor again and codex-doctor undo on it, narrating each step. It never touches your real folders: HOME, CODEX_HOME and the state and cache folders all point into the sandbox, which is removed at the end (unless --keep).`

  static override flags = {
    'codex-bin': Flags.string({description: 'codex binary to use [default: codex on PATH]', helpValue: 'PATH'}),
    keep: Flags.boolean({description: 'keep the sandbox folder to look around afterwards'}),
    sessions: Flags.integer({description: 'how many fake session files to create', default: 24, min: 1, max: 100_000}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Demo)
    const codexBin = flags['codex-bin'] ? path.resolve(flags['codex-bin']) : await findOnPath('codex', process.env.PATH)
    if (!codexBin) this.usageError('no `codex` on PATH: install it (npm install -g @openai/codex) or name one with --codex-bin')

    const c = pc.createColors(wantColor(process.env, process.stdout.isTTY === true))
    const say = (text = '') => process.stdout.write(text + '\n')
    const machine = await buildOldLayout(process.env, flags.sessions)
    try {
      await this.story(machine, codexBin, say, c)
    } finally {
      if (flags.keep) say(c.dim(`The sandbox stays at ${machine.root}`))
      else await rm(machine.root, {recursive: true, force: true})
    }
  }

  private async story(m: DemoMachine, codexBin: string, say: (text?: string) => void, c: ReturnType<typeof pc.createColors>): Promise<void> {
    const step = async (title: string, explain: string, args: string[]) => {
      say(c.bold(`\n━━ ${title}`))
      say(c.dim(explain))
      say(c.cyan(`$ codex-doctor ${args.join(' ')}`.trimEnd()))
      const result = await run(process.execPath, [runJs(), ...args, ...(args[0] === 'undo' ? [] : ['--codex-bin', codexBin])], {env: m.env, cwd: m.home, timeoutMs: 120_000})
      process.stdout.write(result.stdout)
      if (result.stderr.trim()) process.stdout.write(c.dim(result.stderr.replaceAll(m.home, '~')))
      return result
    }

    say(c.bold('codex-doctor demo'))
    say(`A throwaway machine in ${m.root}: HOME is ${m.home}.`)
    const sessionFiles = [...(await fingerprint(path.join(m.codexDir, 'sessions'))).values()].filter((v) => v.startsWith('file')).length
    say(`~/.codex is a link to ~/dotfiles/config/codex (the old layout, declared in ~/dotfiles/nix/home/shared/default.nix),`)
    say(`so auth.json, history.jsonl and ${sessionFiles} session files were written into the dotfiles repository.`)
    const before = await fingerprint(m.home)

    await step('1. Check', 'What a user sees after `just switch` on the old layout.', [])
    await step('2. Fix, dry run', 'What --fix would do. Nothing is written, not even the state folder.', ['--fix', '--dry-run'])
    await step(
      '3. Fix',
      'The migration: ~/.codex becomes a real folder, the state moves into it, the entries are linked, and the Nix file is rewritten to declare them one by one (seed step 2). Every step is journaled; what leaves its place goes to the backup.',
      ['--fix'],
    )
    await step('4. Check again', 'The same checks on the migrated machine.', [])
    const undo = await step('5. Undo', 'Reverse the fix run, newest action first.', ['undo'])

    const after = await fingerprint(m.home)
    const changed = [...new Set([...before.keys(), ...after.keys()])].filter((p) => before.get(p) !== after.get(p))
    say(c.bold('\n━━ 6. Compare'))
    if (undo.exitCode === 0 && changed.length === 0) {
      say(c.green(`✓ All ${before.size} paths under ~ are exactly as before the fix: content, modes and link targets.`))
    } else {
      say(c.red(`✗ ${changed.length} paths differ from before the fix:`))
      for (const p of changed.slice(0, 20)) say(`  ${p.replace(m.home, '~')}`)
      process.exitCode = 1
    }
  }
}
