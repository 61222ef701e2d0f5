# The shell of one local CodeBuild build (see shell.py). Usage:
#   bash build_shell.sh STATE_FILE COMMAND_FD STATUS_FD
# Reads the path of a command file from COMMAND_FD, runs that file in a subshell of this
# shell, writes its exit status to STATUS_FD, and so on until COMMAND_FD closes.
#
# As in buildspec version 0.2, shell state carries from one command to the next: before
# exiting, the subshell saves its variables, functions, options and working directory to
# STATE_FILE and this shell reads them back. Running each command in a subshell lets `exit`
# end that command only, as it does in CodeBuild, instead of the whole build.

set +e
__cb_state="$1"
__cb_in="$2"
__cb_out="$3"
__cb_opts=""
__cb_pwd="$PWD"

# Whether variable $1 is carried between commands (not bash's own, not this script's).
__cb_carried() {
  case "$1" in
    __cb_* | BASH* | FUNCNAME | GROUPS | DIRSTACK | PIPESTATUS | RANDOM | SRANDOM | SECONDS | \
      LINENO | EPOCHSECONDS | EPOCHREALTIME | HISTCMD | _ | PWD | OLDPWD | SHLVL | PPID | UID | \
      EUID | SHELLOPTS | COLUMNS | LINES | HOSTNAME | HOSTTYPE | MACHTYPE | OSTYPE | IFS | \
      OPTIND | OPTARG | COPROC*) return 1 ;;
  esac
  return 0
}

# Write the subshell's state to the state file (run by the subshell's EXIT trap).
__cb_save() {
  local __cb_n __cb_d __cb_a IFS=$' \t\n'
  {
    printf '__cb_names=" '
    for __cb_n in $(compgen -v); do
      __cb_carried "$__cb_n" && printf '%s ' "$__cb_n"
    done
    printf '"\n'
    for __cb_n in $(compgen -v); do
      __cb_carried "$__cb_n" || continue
      __cb_d="$(declare -p "$__cb_n" 2>/dev/null)" || continue
      __cb_a="${__cb_d#declare -}"
      __cb_a="${__cb_a%% *}"
      case "$__cb_a" in *r*) continue ;; esac
      __cb_a="${__cb_a#-}"
      printf 'declare -g%s %s\n' "$__cb_a" "${__cb_d#* * }"
    done
    declare -f
    printf '__cb_opts=%q\n' "$(set +o; shopt -p)"
    printf '__cb_pwd=%q\n' "$PWD"
  } >"$__cb_state" 2>/dev/null
}

while IFS= read -r -u "$__cb_in" __cb_file; do
  rm -f "$__cb_state"
  (
    eval "$__cb_opts"
    cd "$__cb_pwd" || exit 1
    trap '__cb_save' EXIT
    . "$__cb_file"
  ) </dev/null
  __cb_rc=$?
  if [ -f "$__cb_state" ]; then
    __cb_names=""
    . "$__cb_state"
    for __cb_v in $(compgen -v); do
      if __cb_carried "$__cb_v"; then
        case "$__cb_names" in
          *" $__cb_v "*) ;;
          *) unset "$__cb_v" 2>/dev/null ;;
        esac
      fi
    done
  fi
  cd "$__cb_pwd" 2>/dev/null
  printf '%s\n' "$__cb_rc" >&"$__cb_out"
done
