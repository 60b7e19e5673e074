/** The skills Codex loads from a folder, read the way its loader does (loader.rs), and the ones it would skip, with why. */
import path from 'node:path'

import {statOrUndefined} from '../context/chain.js'
import {readdir, readFile, realpath} from '../fs-now.js'
import {readSkillFrontMatter} from '../parse/front-matter.js'

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
  const fm = await readSkillFrontMatter(text)
  if (fm.ok) return {name: fm.name, description: fm.description, path: file}
  return {path: file, problem: fm.problem, ...(fm.loadsFrom ? {loadsFrom: fm.loadsFrom} : {})}
}

/**
 * Walks the skills folder as loader.rs `discover_skills_under_root` does for user skills:
 * hidden entries (`.system`, `.git`…) skipped, linked folders followed, a linked SKILL.md skipped.
 */
export async function readSkillsFolder(folder: string): Promise<SkillsInventory> {
  return walkSkills(folder, [{dir: folder, depth: 0, top: null}], [await realpath(folder)])
}

/** Skill folders linked one by one (CODEX_HOME/skills/<name>), each read as Codex reads a top-level folder of skills/. */
export async function readSkillFolders(label: string, dirs: readonly string[]): Promise<SkillsInventory> {
  const reals = await Promise.all(dirs.map((d) => realpath(d).catch(() => d)))
  return walkSkills(label, dirs.map((dir) => ({dir, depth: 1, top: dir})), reals, dirs)
}

async function walkSkills(folder: string, starts: {dir: string; depth: number; top: string | null}[], visitedAtStart: string[], knownTops: readonly string[] = []): Promise<SkillsInventory> {
  const inventory: SkillsInventory = {folder, skills: [], problems: [], withoutSkillMd: []}
  const visited = new Set<string>(visitedAtStart)
  const queue = [...starts]
  const tops = new Map<string, boolean>(knownTops.map((t) => [t, false]))
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
        const target = statOrUndefined(full)
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
