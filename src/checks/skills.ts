import {readdir, readFile, realpath} from 'node:fs/promises'
import path from 'node:path'
import semver from 'semver'

import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {readSkillFrontMatter} from './front-matter.js'
import {listSome} from './shared.js'
import type {Check, Outcome} from './types.js'

/** How deep Codex's loader looks below the skills folder (loader.rs MAX_SCAN_DEPTH). */
export const SKILLS_SCAN_DEPTH = 6
/** We look a little further, to name skills that sit too deep to load. */
const OUR_SCAN_DEPTH = SKILLS_SCAN_DEPTH + 4
const SKILL_FILE = 'SKILL.md'

export interface Skill {
  name: string
  description: string
  path: string
}

export interface SkillProblem {
  path: string
  problem: string
  /** The first Codex version seen loading this file anyway. */
  loadsFrom?: string
}

export interface SkillsInventory {
  folder: string
  skills: Skill[]
  /** SKILL.md files Codex will not load, and why. */
  problems: SkillProblem[]
  /** Top-level skill folders with no SKILL.md anywhere inside. */
  withoutSkillMd: string[]
}

const utf8 = new TextDecoder('utf-8', {fatal: true})

async function readSkill(file: string): Promise<Skill | SkillProblem> {
  let text: string
  try {
    text = utf8.decode(await readFile(file))
  } catch (error) {
    return {path: file, problem: `failed to read file: ${(error as NodeJS.ErrnoException).code ?? 'not valid UTF-8'}`}
  }
  const fm = readSkillFrontMatter(text)
  if (fm.ok) return {name: fm.name, description: fm.description, path: file}
  return {path: file, problem: fm.problem, ...(fm.loadsFrom ? {loadsFrom: fm.loadsFrom} : {})}
}

/**
 * Walks the skills folder as loader.rs `discover_skills_under_root` does for user skills:
 * hidden entries (`.system`, `.git`…) skipped, linked folders followed, a linked SKILL.md skipped.
 */
export async function readSkillsFolder(folder: string): Promise<SkillsInventory> {
  const inventory: SkillsInventory = {folder, skills: [], problems: [], withoutSkillMd: []}
  const visited = new Set<string>([await realpath(folder)])
  const queue: {dir: string; depth: number; top: string | null}[] = [{dir: folder, depth: 0, top: null}]
  const tops = new Map<string, boolean>()
  const sawSkill = (top: string | null) => top !== null && tops.set(top, true)
  while (queue.length > 0) {
    const {dir, depth, top} = queue.shift()!
    let entries
    try {
      entries = await readdir(dir, {withFileTypes: true})
    } catch (error) {
      inventory.problems.push({path: dir, problem: `folder cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'})`})
      continue
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      if (entry.name.startsWith('.')) continue
      const full = path.join(dir, entry.name)
      const enqueue = async () => {
        const real = await realpath(full).catch(() => full)
        if (visited.has(real)) return
        visited.add(real)
        const here = top ?? full
        if (top === null) tops.set(here, tops.get(here) ?? false)
        if (depth + 1 <= OUR_SCAN_DEPTH) queue.push({dir: full, depth: depth + 1, top: here})
      }
      if (entry.isSymbolicLink()) {
        const target = await statOrUndefined(full)
        if (target?.isDirectory()) await enqueue()
        else if (entry.name === SKILL_FILE) {
          sawSkill(top)
          inventory.problems.push({path: full, problem: 'SKILL.md is a symlink: Codex silently skips a linked SKILL.md'})
        }
        continue
      }
      if (entry.isDirectory()) {
        await enqueue()
        continue
      }
      if (!entry.isFile() || entry.name !== SKILL_FILE) continue
      sawSkill(top)
      if (depth > SKILLS_SCAN_DEPTH) {
        inventory.problems.push({path: full, problem: `deeper than the ${SKILLS_SCAN_DEPTH} folders Codex searches below skills`})
        continue
      }
      const skill = await readSkill(full)
      if ('problem' in skill) inventory.problems.push(skill)
      else inventory.skills.push(skill)
    }
  }
  inventory.withoutSkillMd = [...tops].filter(([, has]) => !has).map(([dir]) => dir).sort()
  return inventory
}


/** Names used by more than one skill: Codex shows one of them, or both under one name. */
function duplicateNames(skills: readonly Skill[]): string[] {
  const seen = new Map<string, number>()
  for (const s of skills) seen.set(s.name, (seen.get(s.name) ?? 0) + 1)
  return [...seen].filter(([, n]) => n > 1).map(([name]) => name)
}

/** Whether this Codex version loads a file that older ones reject; an unknown version is judged strictly. */
const loadsHere = (p: SkillProblem, version: string | null) => p.loadsFrom !== undefined && version !== null && semver.valid(version) !== null && semver.gte(version, p.loadsFrom)

/** The verdict (pure). `linked`: whether CODEX_HOME/skills leads to this folder, i.e. Codex sees these skills. */
export function judgeSkills(inventory: SkillsInventory, linked: boolean, version: string | null): Outcome {
  const rel = (p: string) => path.relative(inventory.folder, p) || '.'
  const problems = inventory.problems.filter((p) => !loadsHere(p, version))
  const olderOnly = inventory.problems.filter((p) => loadsHere(p, version))
  const details = {
    folder: inventory.folder,
    linked,
    version,
    skills: inventory.skills.map((s) => ({name: s.name, path: s.path})),
    problems,
    ...(olderOnly.length > 0 ? {olderCodexSkips: olderOnly} : {}),
    withoutSkillMd: inventory.withoutSkillMd,
  }
  const described = (ps: readonly SkillProblem[]) => listSome(ps.map((p) => `${rel(p.path)} (${p.problem.split(':')[0]})`), 3)
  const count = `${inventory.skills.length} skill${inventory.skills.length === 1 ? '' : 's'}`
  if (problems.length > 0) {
    const linkedFiles = problems.some((p) => p.problem.startsWith('SKILL.md is a symlink'))
    return {
      status: 'fail',
      summary: `${problems.length} SKILL.md ${problems.length === 1 ? 'file does' : 'files do'} not load: ${described(problems)}`,
      details,
      remediation: {
        text:
          'Each SKILL.md must be a regular file opening with front matter between --- lines that holds "name" (at most 64 characters) and ' +
          '"description" (at most 1024), as valid YAML (quote values that contain ": ").' +
          (linkedFiles ? ' Codex skips a SKILL.md that is a symlink: link the skill\'s folder instead, or put the file itself there.' : ''),
        commands: [],
      },
    }
  }
  const duplicates = duplicateNames(inventory.skills)
  if (inventory.withoutSkillMd.length > 0 || duplicates.length > 0 || olderOnly.length > 0) {
    const parts = [
      ...(olderOnly.length > 0 ? [`${described(olderOnly)} load on Codex ${version} but not on older versions`] : []),
      ...(inventory.withoutSkillMd.length > 0 ? [`${listSome(inventory.withoutSkillMd.map(rel), 3)} ${inventory.withoutSkillMd.length === 1 ? 'has' : 'have'} no SKILL.md`] : []),
      ...(duplicates.length > 0 ? [`more than one skill is named ${listSome(duplicates, 3)}`] : []),
    ]
    return {
      status: 'warn',
      summary: `${count} valid, but ${parts.join('; ')}`,
      details: {...details, ...(duplicates.length > 0 ? {duplicateNames: duplicates} : {})},
      remediation: {
        text: 'A skill is a folder holding SKILL.md; give each skill its own "name" in its front matter, and quote values that contain ": ".',
        commands: [],
      },
    }
  }
  const names = inventory.skills.length > 0 ? `: ${listSome(inventory.skills.map((s) => s.name), 5)}` : ''
  if (!linked && inventory.skills.length > 0) {
    // valid, but Codex reads CODEX_HOME/skills, and nothing leads there from the repository
    return {
      status: 'warn',
      summary: `${count} valid${names}, but not linked into CODEX_HOME: Codex does not see them`,
      details,
      remediation: {text: 'Add "skills" to links in codex-doctor.toml (links = ["config.toml", "prompts", "skills"]), then let codex-doctor --fix link the folder.', commands: ['codex-doctor --fix']},
    }
  }
  return {status: 'pass', summary: `${count} valid${names}`, details}
}

/** CODEX_HOME/skills when it is a managed entry, else the repository's skills folder when there is one. */
async function managedSkillsFolder(ctx: Context): Promise<{folder: string; managed: boolean} | null> {
  const live = path.join(ctx.codexHome, 'skills')
  if (ctx.config.links.includes('skills')) return {folder: live, managed: true}
  if (ctx.codexDir && (await statOrUndefined(path.join(ctx.codexDir, 'skills')))?.isDirectory()) return {folder: path.join(ctx.codexDir, 'skills'), managed: false}
  return null
}

export const skills: Check = {
  id: 'skills',
  title: 'Skills load',
  async run(ctx: Context) {
    const found = await managedSkillsFolder(ctx)
    if (!found) return {status: 'skip', summary: 'no managed skills ("skills" is not in links and the repository has no skills folder)'}
    const st = await statOrUndefined(found.folder)
    if (!st?.isDirectory()) {
      return {
        status: 'fail',
        summary: `${found.folder} is not a folder Codex can read`,
        details: {folder: found.folder},
        remediation: {text: 'CODEX_HOME/skills should be a link to the repository\'s skills folder; the links check creates or repairs it.', commands: ['codex-doctor links --fix']},
      }
    }
    const inventory = await readSkillsFolder(found.folder)
    const live = await realpath(path.join(ctx.codexHome, 'skills')).catch(() => null)
    const linked = found.managed || live === (await realpath(found.folder))
    return judgeSkills(inventory, linked, (await ctx.codex()).version)
  },
}
