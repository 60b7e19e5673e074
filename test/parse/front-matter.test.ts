/**
 * Most SKILL.md files are plain `key: value` lines, read without loading the yaml package
 * (simpleFields). Wherever that shortcut answers, it must answer as the YAML reader does.
 */
import {describe, expect, it} from 'vitest'

import {simpleFields} from '../../src/parse/front-matter.js'
import {yamlFields} from '../../src/parse/skill-yaml.js'

const KEYS = ['name', 'description', 'license', 'metadata', 'allowed-tools', 'version_2']
const VALUES = ['greeter', 'Greets people by name', 'true', 'null', '1.50', '0x1F', '~', 'a-b', '(x)', 'a/b', 'a+b=c', 'x, y; z', '"quoted words"', '""', '"with: colon"', "'single'", 'Use it: often', 'ends:', 'hash # comment', '- item', '[a, b]', '{a: 1}', '&anchor x', '*alias', '|', '>', '"esc\\"aped"', 'tab\there', '  padded  ', '']

/** A small deterministic generator (no flaky seeds): every block a test sees, every run. */
function* blocks(): Generator<string> {
  let state = 42
  const next = (n: number) => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state % n
  }
  for (let i = 0; i < 3000; i++) {
    const lines: string[] = []
    for (let j = 1 + next(4); j > 0; j--) {
      const roll = next(20)
      if (roll === 0) lines.push('')
      else if (roll === 1) lines.push(`  ${KEYS[next(KEYS.length)]}: ${VALUES[next(VALUES.length)]}`)
      else lines.push(`${KEYS[next(KEYS.length)]}:${roll === 2 ? '' : ' '}${VALUES[next(VALUES.length)]}${roll === 3 ? '   ' : ''}`)
    }
    yield lines.join('\n')
  }
}

describe('simpleFields, the shortcut past the yaml package', () => {
  it('answers for plain lines, as YAML reads them', () => {
    const fields = simpleFields('name: greeter\ndescription: Greets people, by name (politely)\n\nversion: 1.50')!
    expect(fields).not.toBeNull()
    expect([fields.field('name'), fields.field('description'), fields.field('version'), fields.field('absent')]).toEqual(['greeter', 'Greets people, by name (politely)', '1.50', null])
  })

  it('leaves to YAML what it cannot read exactly: quoting with escapes, colons, comments, nesting, anchors, a key twice', () => {
    for (const block of ['name: "a\\"b"', 'description: Use it: often', 'name: x # note', 'metadata:\n  short-description: s', 'name: &a x', 'name: x\nname: y', "name: 'x'", 'name: |\n  x'])
      expect([block, simpleFields(block)]).toEqual([block, null])
  })

  it('agrees with the YAML reader on every field of 3,000 generated blocks where it answers', () => {
    let answered = 0
    for (const block of blocks()) {
      const simple = simpleFields(block)
      if (!simple) continue
      answered++
      const full = yamlFields(block)
      expect([block, 'problem' in full ? full.problem : null]).toEqual([block, null])
      if ('problem' in full) continue
      for (const key of KEYS) expect([block, key, simple.field(key)]).toEqual([block, key, full.field(key)])
      expect([block, simple.shortDescription, simple.colonProblem]).toEqual([block, full.shortDescription, full.colonProblem])
    }
    // the generator must exercise the shortcut, not only the fallback
    expect(answered).toBeGreaterThan(300)
  })
})
