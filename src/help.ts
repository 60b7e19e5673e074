import {Help} from '@oclif/core'

/** `codex-doctor [CHECK_ID...]` is the `doctor` command under the hood (bin/run.js routes to it); help hides that. */
export default class DoctorHelp extends Help {
  protected override log(...args: string[]): void {
    const bin = this.config.bin
    super.log(...args.map((text) => text.replaceAll(`${bin} doctor `, `${bin} `)))
  }
}
