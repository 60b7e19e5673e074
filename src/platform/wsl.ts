/** Whether this is WSL, as oclif tells it (is-wsl reads /proc as it loads): a file of the bundle of its own, loaded for --version only. */
import isWsl from 'is-wsl'

export const IS_WSL: boolean = isWsl
