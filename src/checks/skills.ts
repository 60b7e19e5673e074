import path from 'node:path'
import {realpath} from '../fs-now.js'
import * as semver from '../semver.js'

import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import type {DeclaredSet} from '../declared/set.js'
import {readSkillFolders, readSkillsFolder, type Skill, type SkillProblem, type SkillsInventory} from '../codex/skills.js'
import type {Check, Outcome} from './types.js'
import {listSome} from '../words.js'
import {CHECK_TITLES} from './titles.js'

/** Names used by more than one skill: Codex shows one of them, or both under one name. */
function duplicateNames(skills: readonly Skill[]): string[] {
  const seen = new Map<string, number>()
  for (const s of skills) seen.set(s.name, (seen.get(s.name) ?? 0) + 1)
  return [...seen].filter(([, n]) => n > 1).map(([name]) => name)
}

/** Whether this Codex version loads a file that older ones reject; an unknown version is judged strictly. */
const loadsHere = (p: SkillProblem, version: string | null) => p.loadsFrom !== undefined && version !== null && semver.valid(version) !== null && semver.gte(version, p.loadsFrom)

/**
 * The verdict (pure). `linked`: whether CODEX_HOME/skills leads to these skills, i.e. Codex sees them.
 * `linkedOneByOne`: each folder is a managed skill link, so one without SKILL.md is broken, not a draft.
 */
export function judgeSkills(inventory: SkillsInventory, linked: boolean, version: string | null, linkedOneByOne = false): Outcome {
  const rel = (p: string) => path.relative(inventory.folder, p) || '.'
  const missingSkillMd: SkillProblem[] = linkedOneByOne ? inventory.withoutSkillMd.map((dir) => ({path: dir, problem: 'no SKILL.md: a linked skill folder that Codex loads nothing from'})) : []
  const problems = [...inventory.problems.filter((p) => !loadsHere(p, version)), ...missingSkillMd]
  const olderOnly = inventory.problems.filter((p) => loadsHere(p, version))
  const details = {
    folder: inventory.folder,
    linked,
    ...(linkedOneByOne ? {linkedOneByOne} : {}),
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
  if ((!linkedOneByOne && inventory.withoutSkillMd.length > 0) || duplicates.length > 0 || olderOnly.length > 0) {
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
      remediation: {
        text: 'Declare a link per skill where you declare the others (home.file.".codex/skills/<name>" in Nix, a link task in Ansible, or "skills/*" = "<codex folder>/skills/*" under [links] in codex-doctor.toml), then switch; Codex writes its own skills/.system into CODEX_HOME/skills, so link the skills one by one, not the folder.',
        commands: [],
      },
    }
  }
  return {status: 'pass', summary: `${count} valid${names}`, details}
}

const PER_SKILL = /^skills\/[^/]+$/

/** The skills the set manages: a linked skills/ folder, or skills linked one by one; else the codex folder's unlinked skills/. */
export async function inventoryOf(ctx: Context, set: DeclaredSet): Promise<{inventory: SkillsInventory; linked: boolean; oneByOne: boolean; missing: string[]} | {skip: string} | {unreadable: string}> {
  const live = path.join(ctx.codexHome, 'skills')
  const whole = set.entries.find((e) => e.entry === 'skills')
  if (whole) {
    // as Codex sees it, through CODEX_HOME; the repository's folder when the link is not there yet (the links check says so)
    const folder = statOrUndefined(live)?.isDirectory() ? live : whole.source
    if (!folder || !statOrUndefined(folder)?.isDirectory()) return {unreadable: folder ?? live}
    const linked = whole.source !== null && (await realpath(live).catch(() => null)) === (await realpath(whole.source).catch(() => undefined))
    return {inventory: await readSkillsFolder(folder), linked, oneByOne: false, missing: []}
  }
  const perSkill = set.entries.filter((e) => PER_SKILL.test(e.entry) && e.source)
  if (perSkill.length > 0) {
    const present: string[] = []
    const missing: string[] = []
    for (const e of perSkill) (statOrUndefined(e.source!)?.isDirectory() ? present : missing).push(e.source!)
    // Codex sees a skill when CODEX_HOME/skills/<name> leads to it (the links check says why one does not)
    const reached = await Promise.all(perSkill.map(async (e) => (await realpath(e.path).catch(() => null)) === (await realpath(e.source!).catch(() => undefined))))
    return {inventory: await readSkillFolders(path.dirname(perSkill[0]!.source!), present), linked: reached.every(Boolean), oneByOne: true, missing}
  }
  const unlinked = set.codexDir ? path.join(set.codexDir, 'skills') : null
  if (unlinked && statOrUndefined(unlinked)?.isDirectory()) {
    const linked = (await realpath(live).catch(() => null)) === (await realpath(unlinked))
    return {inventory: await readSkillsFolder(unlinked), linked, oneByOne: false, missing: []}
  }
  return {skip: 'no managed skills: nothing declares or links skills, and the codex folder has no skills folder'}
}

export const skills: Check = {
  id: 'skills',
  title: CHECK_TITLES['skills'],
  async run(ctx: Context) {
    const found = await inventoryOf(ctx, await ctx.declared())
    if ('skip' in found) return {status: 'skip', summary: found.skip}
    if ('unreadable' in found) {
      return {
        status: 'fail',
        summary: `${found.unreadable} is not a folder Codex can read`,
        details: {folder: found.unreadable},
        remediation: {text: "CODEX_HOME/skills should lead to the repository's skills; the links check creates or repairs the links.", commands: ['codex-doctor links --fix']},
      }
    }
    const inventory = {...found.inventory, problems: [...found.inventory.problems, ...found.missing.map((p) => ({path: p, problem: 'the declared skill folder does not exist in the repository'}))]}
    return judgeSkills(inventory, found.linked, (await ctx.codex()).version, found.oneByOne)
  },
}
