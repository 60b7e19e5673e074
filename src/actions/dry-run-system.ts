import type {Effect, System} from './system.js'
import type {Action} from './types.js'

const PLANNED: Effect = {status: 'planned', backups: []}

/** `--dry-run`: the same interface, and not a single write: not even the state folder (SPEC rule 7). */
export class DryRunSystem implements System {
  readonly planned: Action[] = []

  startAction(action: Action): void {
    this.planned.push(action)
  }

  async endAction(): Promise<void> {}

  async link(): Promise<Effect> {
    return PLANNED
  }

  async move(): Promise<Effect> {
    return PLANNED
  }

  async mkdir(): Promise<Effect> {
    return PLANNED
  }

  async chmod(): Promise<Effect> {
    return PLANNED
  }

  async edit(): Promise<Effect> {
    return PLANNED
  }

  async untrack(): Promise<Effect> {
    return PLANNED
  }
}
