###-begin-fleet-rollback-completions-###
#
# Static completion script for Bash
#
# Installation:
#   fleet-rollback --completions bash >> ~/.bashrc
#

if ! type _init_completion &>/dev/null; then
  _init_completion()
  {
    COMPREPLY=()
    local _i _j=0 _piece _line="$COMP_LINE"
    words=("${COMP_WORDS[0]}")
    cword=0
    _line="${_line#*"${COMP_WORDS[0]}"}"
    for ((_i = 1; _i < ${#COMP_WORDS[@]}; _i++)); do
      _piece="${COMP_WORDS[_i]}"
      if [[ "$_line" == [[:blank:]]* ]]; then
        ((_j++))
        words[_j]="$_piece"
      else
        words[_j]="${words[_j]}$_piece"
      fi
      ((_i == COMP_CWORD)) && cword=$_j
      _line="${_line#*"$_piece"}"
    done
    cur="${words[cword]}"
    prev=""
    ((cword > 0)) && prev="${words[cword-1]}"
    return 0
  }
fi

_fleet_rollback--choices()
{
  local _cur="$1" _word="$2"; shift 2

  local _head="${_cur%"$_word"}"
  local _open=""
  case "$_head" in
    *\') _open="'" ;;
    *\") _open='"' ;;
  esac

  local _prefix="$_cur" _committed="$_head"
  _prefix=${_prefix//\\/}; _prefix=${_prefix//\"/}; _prefix=${_prefix//\'/}
  _committed=${_committed//\\/}; _committed=${_committed//\"/}; _committed=${_committed//\'/}

  COMPREPLY=()
  local _choice _rest _match
  for _choice in "$@"; do
    [[ "$_choice" == "$_prefix"* ]] || continue
    _rest="${_choice#"$_committed"}"
    case "$_open" in
      "'")
        if [[ "$_head" == "'" ]]; then
          _match=${_rest//\'/\'\\\'\'}
        else
          [[ "$_rest" == *\'* ]] && continue
          _match="$_rest"
        fi
        ;;
      '"')
        _match="${_rest//\\/\\\\}"
        _match="${_match//\$/\\$}"
        _match="${_match//\`/\\\`}"
        _match="${_match//\"/\\\"}"
        ;;
      *)
        printf -v _match '%q' "$_rest"
        [[ -z "$_head" && "$_match" == '~'* ]] && _match="\\$_match"
        ;;
    esac
    [[ -n "$_open" && "$_match" == *"$_open" ]] && _match+="$_open"
    COMPREPLY+=("$_match")
  done
}

_fleet_rollback--paths()
{
  local _kind="$1" _cur="$2" _word="$3"

  local _prefix="$_cur" _committed="${_cur%"$_word"}"
  _prefix=${_prefix//\\/}; _prefix=${_prefix//\"/}; _prefix=${_prefix//\'/}
  _committed=${_committed//\\/}; _committed=${_committed//\"/}; _committed=${_committed//\'/}

  local _typed="" _dir="$_committed" _open="" _i
  if [[ "$_word" == */* ]]; then
    _typed="${_word%/*}/"
    _dir="${_prefix%/*}/"
    if [[ "$_cur" == "$_word" ]]; then
      for ((_i = 0; _i < ${#_typed}; _i++)); do
        case "$_open${_typed:_i:1}" in
          \\|\"\\) ((_i += 1)) ;;
          \"|\') _open="${_typed:_i:1}" ;;
          \"\"|\'\') _open="" ;;
        esac
      done
    fi
  fi

  local _path _names=() _rest="${_word#"$_typed"}"
  while IFS= read -r _path; do
    if [[ "$_path" == "$_dir"* ]]; then
      _names+=("$_committed${_path#"$_dir"}")
    elif [[ -z "$_committed" ]]; then
      _names+=("$_path")
      _typed="" _rest="" _open=""
    fi
  done < <(compgen "$_kind" -- "$_prefix")
  if [[ -n "$_open" ]]; then
    _typed+="$_open"
    _rest="${_prefix##*/}"
  fi

  _fleet_rollback--choices "${_cur%"$_word"}$_rest" "$_rest" "${_names[@]}"
  for ((_i = 0; _i < ${#COMPREPLY[@]}; _i++)); do
    COMPREPLY[_i]="$_typed${COMPREPLY[_i]}"
  done
}

_fleet_rollback()
{
  local cur prev words cword i
  local _command_index=0
  _init_completion -n "$COMP_WORDBREAKS" || return
  local _comp_word="$2"

  # Subcommand dispatch
  local cmd _skip_next=0
  for ((i = _command_index + 1; i < cword; i++)); do
    if (( _skip_next )); then
      _skip_next=0
      continue
    fi
    case "${words[i]}" in
      get)
        _fleet_rollback_get "$i"
        return
        ;;
      choices)
        _fleet_rollback_choices "$i"
        return
        ;;
      plan)
        _fleet_rollback_plan "$i"
        return
        ;;
      run)
        _fleet_rollback_run "$i"
        return
        ;;
      undo)
        _fleet_rollback_undo "$i"
        return
        ;;
      demo)
        _fleet_rollback_demo "$i"
        return
        ;;
      re-track)
        _fleet_rollback_re_track "$i"
        return
        ;;
    esac
  done

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    return
  fi

  COMPREPLY=( $(compgen -W 'get choices plan run undo demo re-track' -- "$cur") )
}

_fleet_rollback_get()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
    --granularity)
      _fleet_rollback--choices "$cur" "$_comp_word" 'instant' 'day'
      return
      ;;
    --from)
      _fleet_rollback--choices "$cur" "$_comp_word" 'registry' 'history' 'imagestreams'
      return
      ;;
  esac

  local _used_0="" _used_1="" _used_2="" _used_3="" _used_4="" _used_5="" _used_6="" _used_7="" _used_8="" _used_9="" _used_10="" _used_11="" _used_12="" _used_13="" _used_14="" _used_15="" _used_16="" _used_17="" _used_18="" _used_19="" _used_20="" _used_21="" _used_22="" _used_23="" _used_24="" _used_25="" _used_26="" _used_27="" _used_28="" _used_29="" _used_30="" _used_31="" _used_32="" _used_33="" _used_34="" _used_35="" _used_36="" _used_37="" _used_38="" _used_39="" _used_40="" _used_41="" _used_42=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --config) _used_0=1 ;;
      --registry) _used_1=1 ;;
      --repo) _used_2=1 ;;
      --env) _used_3=1 ;;
      --scheme) _used_4=1 ;;
      --since) _used_5=1 ;;
      --out) _used_6=1 ;;
      --last) _used_7=1 ;;
      --granularity) _used_8=1 ;;
      --tz) _used_9=1 ;;
      --platform) _used_10=1 ;;
      --cache-dir) _used_11=1 ;;
      --cache|--no-cache) _used_12=1 ;;
      --verify-tags|--no-verify-tags) _used_13=1 ;;
      --docker-hub-api|--no-docker-hub-api) _used_14=1 ;;
      --concurrency) _used_15=1 ;;
      --target) _used_16=1 ;;
      --marathon) _used_17=1 ;;
      --dcos) _used_18=1 ;;
      --dcos-uid) _used_19=1 ;;
      --ca-file) _used_20=1 ;;
      --insecure-skip-verify|--no-insecure-skip-verify) _used_21=1 ;;
      --stack) _used_22=1 ;;
      --label-selector) _used_23=1 ;;
      --namespace) _used_24=1 ;;
      --context) _used_25=1 ;;
      --repo-url) _used_26=1 ;;
      --repo-path) _used_27=1 ;;
      --branch) _used_28=1 ;;
      --strategy) _used_29=1 ;;
      --push-to-branch|--no-push-to-branch) _used_30=1 ;;
      --hold|--no-hold) _used_31=1 ;;
      --wait-on) _used_32=1 ;;
      --app-prefix) _used_33=1 ;;
      --label) _used_34=1 ;;
      --from) _used_35=1 ;;
      --reports) _used_36=1 ;;
      --request-timeout) _used_37=1 ;;
      --bad-tag) _used_38=1 ;;
      --allow-empty|--no-allow-empty) _used_39=1 ;;
      --json|--no-json) _used_40=1 ;;
      --quiet|-q|--no-quiet) _used_41=1 ;;
      --verbose|--no-verbose) _used_42=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --config"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --registry"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --repo"
  [[ -n "$_used_3" ]] || _filtered_flags+=" --env"
  [[ -n "$_used_4" ]] || _filtered_flags+=" --scheme"
  [[ -n "$_used_5" ]] || _filtered_flags+=" --since"
  [[ -n "$_used_6" ]] || _filtered_flags+=" --out"
  [[ -n "$_used_7" ]] || _filtered_flags+=" --last"
  [[ -n "$_used_8" ]] || _filtered_flags+=" --granularity"
  [[ -n "$_used_9" ]] || _filtered_flags+=" --tz"
  [[ -n "$_used_10" ]] || _filtered_flags+=" --platform"
  [[ -n "$_used_11" ]] || _filtered_flags+=" --cache-dir"
  [[ -n "$_used_12" ]] || _filtered_flags+=" --cache --no-cache"
  [[ -n "$_used_13" ]] || _filtered_flags+=" --verify-tags --no-verify-tags"
  [[ -n "$_used_14" ]] || _filtered_flags+=" --docker-hub-api --no-docker-hub-api"
  [[ -n "$_used_15" ]] || _filtered_flags+=" --concurrency"
  [[ -n "$_used_16" ]] || _filtered_flags+=" --target"
  [[ -n "$_used_17" ]] || _filtered_flags+=" --marathon"
  [[ -n "$_used_18" ]] || _filtered_flags+=" --dcos"
  [[ -n "$_used_19" ]] || _filtered_flags+=" --dcos-uid"
  [[ -n "$_used_20" ]] || _filtered_flags+=" --ca-file"
  [[ -n "$_used_21" ]] || _filtered_flags+=" --insecure-skip-verify --no-insecure-skip-verify"
  [[ -n "$_used_22" ]] || _filtered_flags+=" --stack"
  [[ -n "$_used_23" ]] || _filtered_flags+=" --label-selector"
  [[ -n "$_used_24" ]] || _filtered_flags+=" --namespace"
  [[ -n "$_used_25" ]] || _filtered_flags+=" --context"
  [[ -n "$_used_26" ]] || _filtered_flags+=" --repo-url"
  [[ -n "$_used_27" ]] || _filtered_flags+=" --repo-path"
  [[ -n "$_used_28" ]] || _filtered_flags+=" --branch"
  [[ -n "$_used_29" ]] || _filtered_flags+=" --strategy"
  [[ -n "$_used_30" ]] || _filtered_flags+=" --push-to-branch --no-push-to-branch"
  [[ -n "$_used_31" ]] || _filtered_flags+=" --hold --no-hold"
  [[ -n "$_used_32" ]] || _filtered_flags+=" --wait-on"
  [[ -n "$_used_33" ]] || _filtered_flags+=" --app-prefix"
  [[ -n "$_used_34" ]] || _filtered_flags+=" --label"
  [[ -n "$_used_35" ]] || _filtered_flags+=" --from"
  [[ -n "$_used_36" ]] || _filtered_flags+=" --reports"
  [[ -n "$_used_37" ]] || _filtered_flags+=" --request-timeout"
  [[ -n "$_used_38" ]] || _filtered_flags+=" --bad-tag"
  [[ -n "$_used_39" ]] || _filtered_flags+=" --allow-empty --no-allow-empty"
  [[ -n "$_used_40" ]] || _filtered_flags+=" --json --no-json"
  [[ -n "$_used_41" ]] || _filtered_flags+=" --quiet -q --no-quiet"
  [[ -n "$_used_42" ]] || _filtered_flags+=" --verbose --no-verbose"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_choices()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --file) _used_0=1 ;;
      --json|--no-json) _used_1=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --file"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --json --no-json"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_plan()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1="" _used_2="" _used_3="" _used_4="" _used_5="" _used_6="" _used_7="" _used_8="" _used_9="" _used_10="" _used_11="" _used_12="" _used_13="" _used_14="" _used_15="" _used_16="" _used_17="" _used_18="" _used_19="" _used_20="" _used_21="" _used_22="" _used_23="" _used_24="" _used_25="" _used_26="" _used_27="" _used_28="" _used_29="" _used_30="" _used_31="" _used_32=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --file) _used_0=1 ;;
      --point) _used_1=1 ;;
      --config) _used_2=1 ;;
      --env) _used_3=1 ;;
      --tz) _used_4=1 ;;
      --target) _used_5=1 ;;
      --marathon) _used_6=1 ;;
      --dcos) _used_7=1 ;;
      --dcos-uid) _used_8=1 ;;
      --ca-file) _used_9=1 ;;
      --insecure-skip-verify|--no-insecure-skip-verify) _used_10=1 ;;
      --stack) _used_11=1 ;;
      --label-selector) _used_12=1 ;;
      --namespace) _used_13=1 ;;
      --context) _used_14=1 ;;
      --repo-url) _used_15=1 ;;
      --repo-path) _used_16=1 ;;
      --branch) _used_17=1 ;;
      --strategy) _used_18=1 ;;
      --push-to-branch|--no-push-to-branch) _used_19=1 ;;
      --hold|--no-hold) _used_20=1 ;;
      --wait-on) _used_21=1 ;;
      --app-prefix) _used_22=1 ;;
      --label) _used_23=1 ;;
      --pin-digest|--no-pin-digest) _used_24=1 ;;
      --server-dry-run|--no-server-dry-run) _used_25=1 ;;
      --known-good) _used_26=1 ;;
      --bad-tag) _used_27=1 ;;
      --allow-partial|--no-allow-partial) _used_28=1 ;;
      --allow-forward|--no-allow-forward) _used_29=1 ;;
      --json|--no-json) _used_30=1 ;;
      --quiet|-q|--no-quiet) _used_31=1 ;;
      --verbose|--no-verbose) _used_32=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --file"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --point"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --config"
  [[ -n "$_used_3" ]] || _filtered_flags+=" --env"
  [[ -n "$_used_4" ]] || _filtered_flags+=" --tz"
  [[ -n "$_used_5" ]] || _filtered_flags+=" --target"
  [[ -n "$_used_6" ]] || _filtered_flags+=" --marathon"
  [[ -n "$_used_7" ]] || _filtered_flags+=" --dcos"
  [[ -n "$_used_8" ]] || _filtered_flags+=" --dcos-uid"
  [[ -n "$_used_9" ]] || _filtered_flags+=" --ca-file"
  [[ -n "$_used_10" ]] || _filtered_flags+=" --insecure-skip-verify --no-insecure-skip-verify"
  [[ -n "$_used_11" ]] || _filtered_flags+=" --stack"
  [[ -n "$_used_12" ]] || _filtered_flags+=" --label-selector"
  [[ -n "$_used_13" ]] || _filtered_flags+=" --namespace"
  [[ -n "$_used_14" ]] || _filtered_flags+=" --context"
  [[ -n "$_used_15" ]] || _filtered_flags+=" --repo-url"
  [[ -n "$_used_16" ]] || _filtered_flags+=" --repo-path"
  [[ -n "$_used_17" ]] || _filtered_flags+=" --branch"
  [[ -n "$_used_18" ]] || _filtered_flags+=" --strategy"
  [[ -n "$_used_19" ]] || _filtered_flags+=" --push-to-branch --no-push-to-branch"
  [[ -n "$_used_20" ]] || _filtered_flags+=" --hold --no-hold"
  [[ -n "$_used_21" ]] || _filtered_flags+=" --wait-on"
  [[ -n "$_used_22" ]] || _filtered_flags+=" --app-prefix"
  [[ -n "$_used_23" ]] || _filtered_flags+=" --label"
  [[ -n "$_used_24" ]] || _filtered_flags+=" --pin-digest --no-pin-digest"
  [[ -n "$_used_25" ]] || _filtered_flags+=" --server-dry-run --no-server-dry-run"
  [[ -n "$_used_26" ]] || _filtered_flags+=" --known-good"
  [[ -n "$_used_27" ]] || _filtered_flags+=" --bad-tag"
  [[ -n "$_used_28" ]] || _filtered_flags+=" --allow-partial --no-allow-partial"
  [[ -n "$_used_29" ]] || _filtered_flags+=" --allow-forward --no-allow-forward"
  [[ -n "$_used_30" ]] || _filtered_flags+=" --json --no-json"
  [[ -n "$_used_31" ]] || _filtered_flags+=" --quiet -q --no-quiet"
  [[ -n "$_used_32" ]] || _filtered_flags+=" --verbose --no-verbose"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_run()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1="" _used_2="" _used_3="" _used_4="" _used_5="" _used_6="" _used_7="" _used_8="" _used_9="" _used_10="" _used_11="" _used_12="" _used_13="" _used_14="" _used_15="" _used_16="" _used_17="" _used_18="" _used_19="" _used_20="" _used_21="" _used_22="" _used_23="" _used_24="" _used_25="" _used_26="" _used_27="" _used_28="" _used_29="" _used_30="" _used_31="" _used_32="" _used_33="" _used_34="" _used_35="" _used_36="" _used_37="" _used_38="" _used_39="" _used_40="" _used_41="" _used_42=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --file) _used_0=1 ;;
      --point) _used_1=1 ;;
      --config) _used_2=1 ;;
      --env) _used_3=1 ;;
      --tz) _used_4=1 ;;
      --target) _used_5=1 ;;
      --marathon) _used_6=1 ;;
      --dcos) _used_7=1 ;;
      --dcos-uid) _used_8=1 ;;
      --ca-file) _used_9=1 ;;
      --insecure-skip-verify|--no-insecure-skip-verify) _used_10=1 ;;
      --stack) _used_11=1 ;;
      --label-selector) _used_12=1 ;;
      --namespace) _used_13=1 ;;
      --context) _used_14=1 ;;
      --repo-url) _used_15=1 ;;
      --repo-path) _used_16=1 ;;
      --branch) _used_17=1 ;;
      --strategy) _used_18=1 ;;
      --push-to-branch|--no-push-to-branch) _used_19=1 ;;
      --hold|--no-hold) _used_20=1 ;;
      --wait-on) _used_21=1 ;;
      --app-prefix) _used_22=1 ;;
      --label) _used_23=1 ;;
      --pin-digest|--no-pin-digest) _used_24=1 ;;
      --server-dry-run|--no-server-dry-run) _used_25=1 ;;
      --known-good) _used_26=1 ;;
      --bad-tag) _used_27=1 ;;
      --allow-partial|--no-allow-partial) _used_28=1 ;;
      --allow-forward|--no-allow-forward) _used_29=1 ;;
      --json|--no-json) _used_30=1 ;;
      --quiet|-q|--no-quiet) _used_31=1 ;;
      --verbose|--no-verbose) _used_32=1 ;;
      --registry) _used_33=1 ;;
      --yes|-y|--no-yes) _used_34=1 ;;
      --user) _used_35=1 ;;
      --report) _used_36=1 ;;
      --allow-moved-tags|--no-allow-moved-tags) _used_37=1 ;;
      --force|--no-force) _used_38=1 ;;
      --revert-on-failure|--no-revert-on-failure) _used_39=1 ;;
      --timeout) _used_40=1 ;;
      --poll-ms) _used_41=1 ;;
      --dry-run|--no-dry-run) _used_42=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --file"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --point"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --config"
  [[ -n "$_used_3" ]] || _filtered_flags+=" --env"
  [[ -n "$_used_4" ]] || _filtered_flags+=" --tz"
  [[ -n "$_used_5" ]] || _filtered_flags+=" --target"
  [[ -n "$_used_6" ]] || _filtered_flags+=" --marathon"
  [[ -n "$_used_7" ]] || _filtered_flags+=" --dcos"
  [[ -n "$_used_8" ]] || _filtered_flags+=" --dcos-uid"
  [[ -n "$_used_9" ]] || _filtered_flags+=" --ca-file"
  [[ -n "$_used_10" ]] || _filtered_flags+=" --insecure-skip-verify --no-insecure-skip-verify"
  [[ -n "$_used_11" ]] || _filtered_flags+=" --stack"
  [[ -n "$_used_12" ]] || _filtered_flags+=" --label-selector"
  [[ -n "$_used_13" ]] || _filtered_flags+=" --namespace"
  [[ -n "$_used_14" ]] || _filtered_flags+=" --context"
  [[ -n "$_used_15" ]] || _filtered_flags+=" --repo-url"
  [[ -n "$_used_16" ]] || _filtered_flags+=" --repo-path"
  [[ -n "$_used_17" ]] || _filtered_flags+=" --branch"
  [[ -n "$_used_18" ]] || _filtered_flags+=" --strategy"
  [[ -n "$_used_19" ]] || _filtered_flags+=" --push-to-branch --no-push-to-branch"
  [[ -n "$_used_20" ]] || _filtered_flags+=" --hold --no-hold"
  [[ -n "$_used_21" ]] || _filtered_flags+=" --wait-on"
  [[ -n "$_used_22" ]] || _filtered_flags+=" --app-prefix"
  [[ -n "$_used_23" ]] || _filtered_flags+=" --label"
  [[ -n "$_used_24" ]] || _filtered_flags+=" --pin-digest --no-pin-digest"
  [[ -n "$_used_25" ]] || _filtered_flags+=" --server-dry-run --no-server-dry-run"
  [[ -n "$_used_26" ]] || _filtered_flags+=" --known-good"
  [[ -n "$_used_27" ]] || _filtered_flags+=" --bad-tag"
  [[ -n "$_used_28" ]] || _filtered_flags+=" --allow-partial --no-allow-partial"
  [[ -n "$_used_29" ]] || _filtered_flags+=" --allow-forward --no-allow-forward"
  [[ -n "$_used_30" ]] || _filtered_flags+=" --json --no-json"
  [[ -n "$_used_31" ]] || _filtered_flags+=" --quiet -q --no-quiet"
  [[ -n "$_used_32" ]] || _filtered_flags+=" --verbose --no-verbose"
  [[ -n "$_used_33" ]] || _filtered_flags+=" --registry"
  [[ -n "$_used_34" ]] || _filtered_flags+=" --yes -y --no-yes"
  [[ -n "$_used_35" ]] || _filtered_flags+=" --user"
  [[ -n "$_used_36" ]] || _filtered_flags+=" --report"
  [[ -n "$_used_37" ]] || _filtered_flags+=" --allow-moved-tags --no-allow-moved-tags"
  [[ -n "$_used_38" ]] || _filtered_flags+=" --force --no-force"
  [[ -n "$_used_39" ]] || _filtered_flags+=" --revert-on-failure --no-revert-on-failure"
  [[ -n "$_used_40" ]] || _filtered_flags+=" --timeout"
  [[ -n "$_used_41" ]] || _filtered_flags+=" --poll-ms"
  [[ -n "$_used_42" ]] || _filtered_flags+=" --dry-run --no-dry-run"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_undo()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1="" _used_2="" _used_3="" _used_4="" _used_5="" _used_6="" _used_7="" _used_8="" _used_9="" _used_10="" _used_11="" _used_12="" _used_13="" _used_14="" _used_15="" _used_16="" _used_17="" _used_18="" _used_19="" _used_20="" _used_21="" _used_22="" _used_23="" _used_24="" _used_25="" _used_26="" _used_27="" _used_28="" _used_29=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --report) _used_0=1 ;;
      --out) _used_1=1 ;;
      --config) _used_2=1 ;;
      --target) _used_3=1 ;;
      --marathon) _used_4=1 ;;
      --dcos) _used_5=1 ;;
      --dcos-uid) _used_6=1 ;;
      --ca-file) _used_7=1 ;;
      --insecure-skip-verify|--no-insecure-skip-verify) _used_8=1 ;;
      --stack) _used_9=1 ;;
      --label-selector) _used_10=1 ;;
      --namespace) _used_11=1 ;;
      --context) _used_12=1 ;;
      --repo-url) _used_13=1 ;;
      --repo-path) _used_14=1 ;;
      --branch) _used_15=1 ;;
      --strategy) _used_16=1 ;;
      --push-to-branch|--no-push-to-branch) _used_17=1 ;;
      --hold|--no-hold) _used_18=1 ;;
      --wait-on) _used_19=1 ;;
      --target-from-report|--no-target-from-report) _used_20=1 ;;
      --yes|-y|--no-yes) _used_21=1 ;;
      --user) _used_22=1 ;;
      --force|--no-force) _used_23=1 ;;
      --revert-on-failure|--no-revert-on-failure) _used_24=1 ;;
      --timeout) _used_25=1 ;;
      --poll-ms) _used_26=1 ;;
      --json|--no-json) _used_27=1 ;;
      --quiet|-q|--no-quiet) _used_28=1 ;;
      --verbose|--no-verbose) _used_29=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --report"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --out"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --config"
  [[ -n "$_used_3" ]] || _filtered_flags+=" --target"
  [[ -n "$_used_4" ]] || _filtered_flags+=" --marathon"
  [[ -n "$_used_5" ]] || _filtered_flags+=" --dcos"
  [[ -n "$_used_6" ]] || _filtered_flags+=" --dcos-uid"
  [[ -n "$_used_7" ]] || _filtered_flags+=" --ca-file"
  [[ -n "$_used_8" ]] || _filtered_flags+=" --insecure-skip-verify --no-insecure-skip-verify"
  [[ -n "$_used_9" ]] || _filtered_flags+=" --stack"
  [[ -n "$_used_10" ]] || _filtered_flags+=" --label-selector"
  [[ -n "$_used_11" ]] || _filtered_flags+=" --namespace"
  [[ -n "$_used_12" ]] || _filtered_flags+=" --context"
  [[ -n "$_used_13" ]] || _filtered_flags+=" --repo-url"
  [[ -n "$_used_14" ]] || _filtered_flags+=" --repo-path"
  [[ -n "$_used_15" ]] || _filtered_flags+=" --branch"
  [[ -n "$_used_16" ]] || _filtered_flags+=" --strategy"
  [[ -n "$_used_17" ]] || _filtered_flags+=" --push-to-branch --no-push-to-branch"
  [[ -n "$_used_18" ]] || _filtered_flags+=" --hold --no-hold"
  [[ -n "$_used_19" ]] || _filtered_flags+=" --wait-on"
  [[ -n "$_used_20" ]] || _filtered_flags+=" --target-from-report --no-target-from-report"
  [[ -n "$_used_21" ]] || _filtered_flags+=" --yes -y --no-yes"
  [[ -n "$_used_22" ]] || _filtered_flags+=" --user"
  [[ -n "$_used_23" ]] || _filtered_flags+=" --force --no-force"
  [[ -n "$_used_24" ]] || _filtered_flags+=" --revert-on-failure --no-revert-on-failure"
  [[ -n "$_used_25" ]] || _filtered_flags+=" --timeout"
  [[ -n "$_used_26" ]] || _filtered_flags+=" --poll-ms"
  [[ -n "$_used_27" ]] || _filtered_flags+=" --json --no-json"
  [[ -n "$_used_28" ]] || _filtered_flags+=" --quiet -q --no-quiet"
  [[ -n "$_used_29" ]] || _filtered_flags+=" --verbose --no-verbose"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_demo()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1="" _used_2=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --keep|--no-keep) _used_0=1 ;;
      --deployment-ms) _used_1=1 ;;
      --target) _used_2=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --keep --no-keep"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --deployment-ms"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --target"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

_fleet_rollback_re_track()
{
  local cur prev words cword i
  local _command_index="$1"
  _init_completion -n "$COMP_WORDBREAKS" || return

  # Flag value completions
  case "$prev" in
  esac

  local _used_0="" _used_1="" _used_2="" _used_3="" _used_4="" _used_5="" _used_6=""
  for ((i = 1; i < cword; i++)); do
    case "${words[i]%%=*}" in
      --config) _used_0=1 ;;
      --namespace) _used_1=1 ;;
      --context) _used_2=1 ;;
      --tag) _used_3=1 ;;
      --yes|-y|--no-yes) _used_4=1 ;;
      --timeout) _used_5=1 ;;
      --poll-ms) _used_6=1 ;;
    esac
  done
  local _filtered_flags=""
  [[ -n "$_used_0" ]] || _filtered_flags+=" --config"
  [[ -n "$_used_1" ]] || _filtered_flags+=" --namespace"
  [[ -n "$_used_2" ]] || _filtered_flags+=" --context"
  [[ -n "$_used_3" ]] || _filtered_flags+=" --tag"
  [[ -n "$_used_4" ]] || _filtered_flags+=" --yes -y --no-yes"
  [[ -n "$_used_5" ]] || _filtered_flags+=" --timeout"
  [[ -n "$_used_6" ]] || _filtered_flags+=" --poll-ms"

  # Complete flags (filtered) and subcommands
  if [[ "$cur" == -* ]]; then
    COMPREPLY=( $(compgen -W "$_filtered_flags" -- "$cur") )
    return
  fi

}

complete -F _fleet_rollback fleet-rollback
###-end-fleet-rollback-completions-###
