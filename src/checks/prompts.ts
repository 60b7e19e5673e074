import path from 'node:path'

import type {Action} from '../actions/types.js'
import {PROMPTS_REMOVED_IN} from '../codex-facts.js'
import {statOrUndefined} from '../context/chain.js'
import type {Context} from '../context/types.js'
import {editAction, planDeclare} from '../declared/edit.js'
import {homeManagerFiles} from '../declared/home-manager.js'
import type {DeclaredEntry, DeclaredSet} from '../declared/set.js'
import {loadsPrompts, type PromptsFolder, type PromptsMissing, readPromptsFolder} from '../codex/prompts.js'
import {readSkillsFolder} from '../codex/skills.js'
import {readFile, realpath} from '../fs-now.js'
import {readSkillFrontMatter, skillFromPrompt} from '../parse/front-matter.js'

import type {Check, Outcome} from './types.js'
import {listSome, shellQuote} from '../words.js'
import {CHECK_TITLES} from './titles.js'

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`

/** Where the prompts stand in their move to skills (Codex ≥ 0.117). */
export interface Conversion {
  /** Prompts that have a skill of their name Codex sees, or a declared one in the repository. */
  done: string[]
  /** Prompts without a skill yet. */
  missing: string[]
  /** Prompts --fix cannot turn into a skill, and why. */
  blocked: {name: string; why: string}[]
  /** What --fix would do about the declaration of the new links, when it cannot (a file it cannot edit). */
  declareProblem?: string
}

/** The verdict, from what the folder holds and the Codex version (pure). */
export function judgePrompts(state: PromptsFolder | PromptsMissing, version: string | null, conversion?: Conversion): Outcome {
  const unknown = version === null ? ' (Codex version unknown: judged as if it loads prompts)' : ''
  if (!loadsPrompts(version)) {
    const reason = `Codex ${version} no longer loads custom prompts`
    const details = {
      folder: state.folder,
      version,
      removedIn: PROMPTS_REMOVED_IN,
      loaded: [],
      ignored: 'problem' in state ? [] : [...state.loaded.map((p) => ({name: p.name + '.md', reason})), ...state.ignored],
      ...(conversion ? {skills: conversion} : {}),
    }
    if (conversion && conversion.missing.length === 0 && conversion.done.length > 0) {
      const which = conversion.done.length === 1 ? 'the prompt has its skill' : `each of the ${plural(conversion.done.length, 'prompt')} has its skill`
      return {status: 'pass', summary: `${reason}; ${which}: ${listSome(conversion.done, 5)}`, details}
    }
    const todo = conversion?.missing ?? ('problem' in state ? [] : state.loaded.map((p) => p.name))
    const blocked = conversion?.blocked ?? []
    const automatic = todo.length > blocked.length
    return {
      status: 'warn',
      summary: `${reason}; ${todo.length > 0 ? `${listSome(todo.map((n) => n + '.md'), 5)} ${todo.length === 1 ? 'has' : 'have'} no skill yet: move them to skills` : 'move them to skills'}`,
      details,
      remediation: {
        text:
          `Codex ${PROMPTS_REMOVED_IN} and later read skills (CODEX_HOME/skills/<name>/SKILL.md with "name" and "description") instead of prompts. ` +
          (automatic
            ? 'codex-doctor --fix writes a skill per prompt into the repository (the prompts stay), links each into CODEX_HOME/skills/<name>, and declares the new links where you declare the others.'
            : 'Make each prompt a skill: a folder skills/<name>/ holding SKILL.md whose front matter has "name" and "description", the prompt\'s text below it.') +
          (blocked.length > 0 ? ` It cannot convert ${blocked.map((b) => `${b.name}.md (${b.why})`).join(', ')}.` : '') +
          (conversion?.declareProblem ? ` It cannot declare the new links: ${conversion.declareProblem}; declare them yourself.` : ''),
        commands: [],
        automatic,
      },
    }
  }

  if ('problem' in state) {
    return {
      status: 'fail',
      summary: `no prompts load: ${state.problem}${unknown}`,
      details: {folder: state.folder, version, loaded: [], ignored: []},
      remediation: {
        text: 'CODEX_HOME/prompts should be a link to the repository\'s prompts folder; the links check creates or repairs it.',
        commands: ['codex-doctor links --fix'],
      },
    }
  }

  const details = {folder: state.folder, version, loaded: state.loaded, ignored: state.ignored, ...(state.unclosed.length > 0 ? {unclosedFrontMatter: state.unclosed} : {})}
  const ignoredText = state.ignored.map((i) => `${i.name} (${i.reason.split(/[:(]/)[0]!.trim()})`)
  const renames = state.renamable.map((p) => `mv ${shellQuote(p)} ${shellQuote(p.slice(0, p.length - path.extname(p).length) + '.md')}`)
  const fixText =
    'Codex loads only regular *.md files (or links to them) at the top level of prompts: move nested prompts up, rename other files to .md, repair or remove dangling links.'

  if (state.loaded.length === 0 && state.ignored.length === 0) {
    return {
      status: 'warn',
      summary: `the prompts folder is empty: no custom prompt to load${unknown}`,
      details,
      remediation: {text: `Add prompts as ${state.folder}/<name>.md, or drop "prompts" from links in codex-doctor.toml.`, commands: []},
    }
  }
  if (state.loaded.length === 0) {
    return {
      status: 'fail',
      summary: `none of the ${plural(state.ignored.length, 'entry', 'entries')} in prompts loads: ${listSome(ignoredText, 3)}${unknown}`,
      details,
      remediation: {text: fixText, commands: renames},
    }
  }
  const loadedText = `${plural(state.loaded.length, 'prompt')} ${state.loaded.length === 1 ? 'loads' : 'load'}`
  if (state.ignored.length > 0) {
    return {
      status: 'warn',
      summary: `${loadedText}; ${plural(state.ignored.length, 'entry', 'entries')} ignored: ${listSome(ignoredText, 3)}${unknown}`,
      details,
      remediation: {text: fixText, commands: renames},
    }
  }
  if (state.unclosed.length > 0) {
    return {
      status: 'warn',
      summary: `${loadedText}, but the front matter of ${listSome(state.unclosed, 3)} is never closed by ---, so Codex sends it as part of the prompt${unknown}`,
      details,
      remediation: {text: 'Close the front matter with a line holding only --- (or remove the opening ---).', commands: []},
    }
  }
  return {status: 'pass', summary: `${loadedText}: ${listSome(state.loaded.map((p) => p.command), 5)}${unknown}`, details}
}

/** The prompts entry of the set, and its folder as Codex reads it (through CODEX_HOME), else the repository's. */
async function managedPrompts(ctx: Context, set: DeclaredSet): Promise<{entry: DeclaredEntry; folder: string; state: PromptsFolder | PromptsMissing} | null> {
  const entry = set.entries.find((e) => e.entry === 'prompts')
  if (!entry) return null
  const live = path.join(ctx.codexHome, 'prompts')
  const state = await readPromptsFolder(live)
  return {entry, folder: live, state}
}

/** The repository folder new skills go into: where the linked skills live, else the codex folder's skills/. */
export function skillsHome(set: DeclaredSet, prompts: DeclaredEntry): string | null {
  const perSkill = set.entries.filter((e) => /^skills\/[^/]+$/.test(e.entry) && e.source && !e.inStore && !e.outsideRepo)
  if (perSkill.length > 0) return path.dirname(perSkill[0]!.source!)
  const whole = set.entries.find((e) => e.entry === 'skills' && e.source && !e.inStore && !e.outsideRepo)
  if (whole?.source) return whole.source
  return prompts.source ? path.join(path.dirname(prompts.source), 'skills') : set.codexDir ? path.join(set.codexDir, 'skills') : null
}

interface SkillPlan {
  name: string
  skillMd: string
  /** The repository's skill folder. */
  dir: string
  /** CODEX_HOME/skills/<name>. */
  link: string
}

/** Which prompts have their skill, and the skills --fix would write for the others. */
async function conversionOf(ctx: Context, set: DeclaredSet, prompts: DeclaredEntry, state: PromptsFolder): Promise<{conversion: Conversion; plans: SkillPlan[]; home: string | null}> {
  const live = path.join(ctx.codexHome, 'skills')
  const seen = new Set<string>()
  if (statOrUndefined(live)?.isDirectory()) for (const skill of (await readSkillsFolder(live)).skills) seen.add(skill.name)
  // declared per-skill links whose skill exists in the repository count too: a switch links them
  for (const e of set.entries) {
    if (!/^skills\/[^/]+$/.test(e.entry) || !e.source) continue
    const md = await readFile(path.join(e.source, 'SKILL.md'), 'utf8').catch(() => null)
    const fm = md === null ? null : await readSkillFrontMatter(md)
    if (fm?.ok) seen.add(fm.name)
  }
  const home = skillsHome(set, prompts)
  const conversion: Conversion = {done: [], missing: [], blocked: []}
  const plans: SkillPlan[] = []
  for (const prompt of state.loaded) {
    if (seen.has(prompt.name)) {
      conversion.done.push(prompt.name)
      continue
    }
    conversion.missing.push(prompt.name)
    if (!home) {
      conversion.blocked.push({name: prompt.name, why: 'no repository folder to write skills into'})
      continue
    }
    const dir = path.join(home, prompt.name)
    if (statOrUndefined(dir, false)) {
      conversion.blocked.push({name: prompt.name, why: `${dir} already exists and is not that prompt's skill`})
      continue
    }
    const text = await readFile(path.join(state.folder, prompt.name + '.md'), 'utf8').catch(() => null)
    const made = text === null ? {error: 'it cannot be read'} : await skillFromPrompt(prompt.name, text)
    if ('error' in made) conversion.blocked.push({name: prompt.name, why: made.error})
    else plans.push({name: prompt.name, skillMd: made.skillMd, dir, link: path.join(live, prompt.name)})
  }
  return {conversion, plans, home}
}

/** The links the new skills need, and where (and whether) they can be declared. */
async function declarationOf(ctx: Context, set: DeclaredSet, prompts: DeclaredEntry, plans: readonly SkillPlan[], home: string | null) {
  const liveSkills = await realpath(path.join(ctx.codexHome, 'skills')).catch(() => null)
  // a skills/ folder linked whole already shows the new skills
  const wholeLinked = home !== null && liveSkills !== null && liveSkills === (await realpath(home).catch(() => null))
  const like = prompts.basis === 'declared' ? prompts.declarations[0] : undefined
  const links = wholeLinked ? [] : plans.map((p) => ({target: p.link, source: p.dir}))
  const edit = like && links.length > 0 ? await planDeclare(ctx, set, like, links) : null
  return {wholeLinked, like, links, edit}
}

export const prompts: Check = {
  id: 'prompts',
  title: CHECK_TITLES['prompts'],
  async run(ctx: Context) {
    const set = await ctx.declared()
    const managed = await managedPrompts(ctx, set)
    if (!managed) return {status: 'skip', summary: 'no prompts are managed: nothing declares or links prompts, and the codex folder has none'}
    const version = (await ctx.codex()).version
    if (loadsPrompts(version) || 'problem' in managed.state) return judgePrompts(managed.state, version)
    const {conversion, plans, home} = await conversionOf(ctx, set, managed.entry, managed.state)
    if (plans.length > 0) {
      const {edit} = await declarationOf(ctx, set, managed.entry, plans, home)
      if (edit && 'error' in edit) conversion.declareProblem = `${edit.file}: ${edit.error}`
    }
    return judgePrompts(managed.state, version, conversion)
  },
  async plan(ctx: Context) {
    const set = await ctx.declared()
    const managed = await managedPrompts(ctx, set)
    if (!managed || 'problem' in managed.state || loadsPrompts((await ctx.codex()).version)) return []
    const {plans, home} = await conversionOf(ctx, set, managed.entry, managed.state)
    if (plans.length === 0) return []
    const {wholeLinked, like, edit} = await declarationOf(ctx, set, managed.entry, plans, home)
    const actions: Action[] = plans.map((p) => ({check: 'prompts', op: 'edit', path: path.join(p.dir, 'SKILL.md'), content: p.skillMd, note: `the skill for the prompt ${p.name}.md`}))
    // where home-manager manages this HOME it makes the links Nix declares (one of ours would stand in its way at the next switch)
    const viaNix = like?.origin.via === 'nix' && (await homeManagerFiles(ctx.home, ctx.env)) !== null
    if (!wholeLinked && !viaNix) {
      for (const p of plans) {
        const to = like?.origin.via === 'stow' ? path.relative(path.dirname(p.link), p.dir) : p.dir
        actions.push({check: 'prompts', op: 'link', path: p.link, to, note: `skill ${p.name}`})
      }
    }
    if (edit && 'text' in edit) actions.push(editAction('prompts', edit, `declare the links of ${listSome(plans.map((p) => `skills/${p.name}`), 4)}${viaNix ? ' (home-manager switch makes them)' : ''}`, set.repo))
    return actions
  },
}
