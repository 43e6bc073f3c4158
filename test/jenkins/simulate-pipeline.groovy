// @module simulate-pipeline.groovy — runs jenkins/Jenkinsfile's own Groovy in a small stand-in
// for Jenkins' declarative runtime, so its logic (the question, the timeout, NOT_BUILT, `when`,
// withCredentials, post conditions) is exercised without a Jenkins server. The `sh` steps are
// REAL: they run with /bin/sh in the workspace with the environment the pipeline would give
// them, so the stage script and fleet-rollback really run.
//
// Usage: groovy simulate-pipeline.groovy Jenkinsfile spec.json
// spec.json: {
//   "workspace": "/path",                 the build's workspace (holds jenkins/ and fleet-rollback.yaml)
//   "params": {"ENVIRONMENT": "prod", …}, build parameters
//   "env": {"FLEET_ROLLBACK_GRANULARITY": "day", …},  job/agent environment
//   "credentials": {"fleet-rollback-registry": {"username": "…", "password": "…"},
//                   "fleet-rollback-marathon-token": {"secret": "…"}, …},
//   "input": {"<input id>": {"timeout": true} | {"abort": true}
//                           | {"pickLineMatching": "^2026-11-18", "approver": "alice"}   (a choice parameter)
//                           | {"approver": "alice"}},                                    (no parameters)
//             an input whose id is not listed fails the simulation
//   "artifacts": {"<build number>": {"<artifact path>": "<file on disk>"}},   what copyArtifacts finds
//   "abortAfter": "<sh script>" | "abortBefore": "<sh script>"   an operator clicks Abort (or the
//             pipeline timeout fires) right after / right before that sh step: FlowInterrupted
// }
// Prints one JSON object: {"result", "events": [...]} where events are stage/sh/input/echo/archive/post,
// stash/unstash/copyArtifacts, option (timeout, lock) and agent records. Declarative semantics kept:
// `agent none` at the top and `agent any` per stage (each event records the agent it ran under),
// `when { beforeAgent; expression }`, stage-level `post`, ABORTED skipping later stages, post conditions.
// Not a Jenkins emulator: it knows only the steps this Jenkinsfile uses, and fails on anything else.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

File jenkinsfile = new File(args[0])
Map spec = (Map) new JsonSlurper().parse(new File(args[1]))
File workspace = new File((String) spec.workspace)

List events = []
Expando env = new Expando()
((Map) (spec.env ?: [:])).each { k, v -> env.setProperty((String) k, v == null ? null : v.toString()) }
Map params = (Map) (spec.params ?: [:])
Expando currentBuild = new Expando(result: null)
Map<String, String> credentialEnvironment = [:]

/** A step failure, as Jenkins reports a failed `sh` or `error`. */
class StepFailure extends RuntimeException {
    StepFailure(String message) { super(message) }
}

/** Stand-in for FlowInterruptedException (timeout or Abort on the input). */
class FlowInterrupted extends RuntimeException {
    FlowInterrupted(String message) { super(message) }
}

/** Collects the `environment {}` assignments. */
class EnvironmentBlock {
    Map<String, String> values = [:]
    def propertyMissing(String name, value) { values[name] = value == null ? null : value.toString() }
    def propertyMissing(String name) { throw new MissingPropertyException(name, EnvironmentBlock) }
}

/** Collects `options {}`: the pipeline timeout and lock are recorded, the others ignored. */
class OptionsBlock {
    List<Map> options = []
    void disableConcurrentBuilds() { options << [option: 'disableConcurrentBuilds'] }
    void buildDiscarder(Object strategy) {}
    Map logRotator(Map options) { options }
    void timeout(Map settings) { options << [option: 'timeout', time: settings.time, unit: settings.unit] }
    void lock(Map settings) { options << [option: 'lock', resource: settings.resource] }
}

/** Collects the top-level sections of `pipeline {}`. */
class PipelineBlock {
    Closure environment, stages, post, options
    Object agent
    void agent(Object value) { agent = value }
    void options(Closure c) { options = c }
    void parameters(Closure c) { c.call() }
    void environment(Closure c) { environment = c }
    void stages(Closure c) { stages = c }
    void post(Closure c) { post = c }
}

/** Collects `stage(name) {}` entries. */
class StagesBlock {
    List<List> stages = []
    void stage(String name, Closure body) { stages << [name, body] }
}

/** Collects a stage's `agent`, `when`, `steps` and `post`. */
class StageBlock {
    Closure when, steps, post
    Object agent
    void agent(Object value) { agent = value }
    void when(Closure c) { when = c }
    void steps(Closure c) { steps = c }
    void post(Closure c) { post = c }
}

/** Collects a `when {}` block's `beforeAgent` and `expression {}`. */
class WhenBlock {
    Closure expression
    boolean beforeAgent
    void beforeAgent(boolean value) { beforeAgent = value }
    void expression(Closure c) { expression = c }
}

/** Collects `post {}` conditions. */
class PostBlock {
    Map<String, Closure> conditions = [:]
    void always(Closure c) { conditions.always = c }
    void success(Closure c) { conditions.success = c }
    void failure(Closure c) { conditions.failure = c }
    void notBuilt(Closure c) { conditions.notBuilt = c }
    void aborted(Closure c) { conditions.aborted = c }
}

/** The agent the running stage holds: null while no stage holds one (the pipeline is `agent none`). */
Map current = [agent: null, stage: null]

def withDelegate = { Closure c, Object delegate ->
    Closure copy = (Closure) c.clone()
    copy.resolveStrategy = Closure.DELEGATE_FIRST
    copy.delegate = delegate
    copy.call()
    return delegate
}

def shellEnvironment = {
    Map<String, String> out = new HashMap<String, String>(System.getenv())
    env.getProperties().each { k, v -> if (v != null) out[(String) k] = v.toString() }
    out.putAll(credentialEnvironment)
    out.WORKSPACE = workspace.path
    return out
}

def sh = { Object argument ->
    String script = argument instanceof Map ? (String) argument.script : (String) argument
    if (current.agent == null) throw new IllegalStateException("sh outside any agent (agent none): ${script}")
    boolean returnStdout = argument instanceof Map && argument.returnStdout == true
    ProcessBuilder builder = new ProcessBuilder('sh', '-c', script).directory(workspace)
    builder.environment().clear()
    builder.environment().putAll(shellEnvironment())
    if (spec.abortBefore == script) throw new FlowInterrupted("aborted before: ${script}")
    Process process = builder.start()
    process.outputStream.close()
    StringBuilder stdout = new StringBuilder()
    StringBuilder stderr = new StringBuilder()
    process.waitForProcessOutput(stdout, stderr)
    int code = process.exitValue()
    events << [type: 'sh', script: script, code: code, stdout: stdout.toString(), stderr: stderr.toString(),
               stage: current.stage, agent: current.agent]
    if (code != 0) throw new StepFailure("script returned exit code ${code}")
    if (spec.abortAfter == script) throw new FlowInterrupted("aborted after: ${script}")
    return returnStdout ? stdout.toString() : null
}

def binding = new Binding()
binding.setVariable('env', env)
binding.setVariable('params', params)
binding.setVariable('currentBuild', currentBuild)
binding.setVariable('any', 'any')
binding.setVariable('none', 'none')
binding.setVariable('scm', 'scm')
binding.setVariable('checkout', { Object scm -> events << [type: 'checkout', agent: current.agent] })
binding.setVariable('node', { Closure body ->
    Object saved = current.agent
    current.agent = 'node'
    try { body.call() } finally { current.agent = saved }
})
File stashes = File.createTempDir('simulated-stashes', '')
stashes.deleteOnExit()
binding.setVariable('stash', { Map options ->
    File source = new File(workspace, (String) options.includes)
    if (!source.isFile()) throw new StepFailure("No files included in stash '${options.name}'")
    File stored = new File(stashes, (String) options.name)
    stored.bytes = source.bytes
    events << [type: 'stash', name: options.name, includes: options.includes, agent: current.agent]
})
binding.setVariable('unstash', { String name ->
    File stored = new File(stashes, name)
    if (!stored.isFile()) throw new StepFailure("No such saved stash '${name}'")
    events << [type: 'unstash', name: name, agent: current.agent]
})
binding.setVariable('specific', { String number -> [kind: 'specific', build: number] })
binding.setVariable('copyArtifacts', { Map options ->
    if (current.agent == null) throw new IllegalStateException('copyArtifacts needs an agent')
    Map build = (Map) ((Map) (spec.artifacts ?: [:])).get(((Map) options.selector).build)
    String source = build?.get(options.filter)
    events << [type: 'copyArtifacts', projectName: options.projectName, build: ((Map) options.selector).build,
               filter: options.filter, target: options.target, found: source != null]
    if (source == null) {
        throw new StepFailure("Unable to find a build for artifact copy from: ${options.projectName}")
    }
    File target = new File(new File(workspace, (String) options.target), (String) options.filter)
    target.parentFile.mkdirs()
    target.bytes = new File(source).bytes
})
binding.setVariable('sh', sh)
binding.setVariable('echo', { String message -> events << [type: 'echo', message: message] })
binding.setVariable('error', { String message -> events << [type: 'error', message: message]; throw new StepFailure(message) })
binding.setVariable('script', { Closure body -> body.call() })
binding.setVariable('disableConcurrentBuilds', { -> null })
binding.setVariable('logRotator', { Map options -> options })
binding.setVariable('buildDiscarder', { Object strategy -> null })
binding.setVariable('choice', { Map options -> [kind: 'choice'] + options })
binding.setVariable('string', { Map options -> [kind: 'string'] + options })
binding.setVariable('booleanParam', { Map options -> [kind: 'booleanParam'] + options })
binding.setVariable('usernamePassword', { Map options -> [kind: 'usernamePassword'] + options })
binding.setVariable('file', { Map options -> [kind: 'file'] + options })
binding.setVariable('timeout', { Map options, Closure body ->
    events << [type: 'timeout', time: options.time, unit: options.unit]
    body.call()
})
binding.setVariable('archiveArtifacts', { Map options ->
    if (current.agent == null) throw new IllegalStateException('archiveArtifacts outside any agent')
    List patterns = ((String) options.artifacts).split(',').collect { it.trim() }
    List found = patterns.findAll { new File(workspace, it).exists() }
    events << [type: 'archive', artifacts: found, allowEmptyArchive: options.allowEmptyArchive]
    if (found.isEmpty() && options.allowEmptyArchive != true) throw new StepFailure("No artifacts found: ${patterns}")
})
binding.setVariable('withCredentials', { List bindings, Closure body ->
    Map<String, String> bound = [:]
    bindings.each { Map b ->
        Map stored = (Map) ((Map) spec.credentials)?.get(b.credentialsId)
        if (stored == null) throw new StepFailure("Could not find credentials entry with ID '${b.credentialsId}'")
        switch (b.kind) {
            case 'usernamePassword':
                bound[(String) b.usernameVariable] = (String) stored.username
                bound[(String) b.passwordVariable] = (String) stored.password
                break
            case 'string':
                bound[(String) b.variable] = (String) stored.secret
                break
            case 'file':
                File secretFile = File.createTempFile('secret', '.key')
                secretFile.deleteOnExit()
                secretFile.text = (String) stored.content
                bound[(String) b.variable] = secretFile.path
                break
            default:
                throw new StepFailure("unsupported credential binding ${b.kind}")
        }
    }
    events << [type: 'withCredentials', variables: bound.keySet().sort()]
    Map<String, String> saved = new HashMap<String, String>(credentialEnvironment)
    credentialEnvironment.putAll(bound)
    try {
        body.call()
    } finally {
        credentialEnvironment.clear()
        credentialEnvironment.putAll(saved)
    }
})
binding.setVariable('input', { Map options ->
    Map parameter = options.parameters ? (Map) ((List) options.parameters)[0] : null
    List<String> choices = parameter == null ? null : (((String) parameter.choices).split('\n') as List<String>)
    events << [type: 'input', id: options.id, message: options.message, ok: options.ok,
               submitterParameter: options.submitterParameter, submitter: options.submitter,
               parameter: parameter?.name, choices: choices, stage: current.stage, agent: current.agent]
    Map answer = (Map) ((Map) spec.input).get(options.id)
    if (answer == null) throw new IllegalStateException("the spec has no answer for input '${options.id}'")
    if (answer.timeout) throw new FlowInterrupted('timeout expired')
    if (answer.abort) throw new FlowInterrupted('aborted by user')
    Map result = [:]
    if (parameter != null) {
        String picked = choices.find { it =~ (String) answer.pickLineMatching }
        if (picked == null) throw new IllegalStateException("no choice matches ${answer.pickLineMatching}: ${choices}")
        result[parameter.name] = picked
    }
    if (options.submitterParameter) result[options.submitterParameter] = answer.approver
    // Jenkins' input step: one value alone is returned as it is, several as a map.
    return result.size() == 1 ? result.values().first() : (result ?: null)
})

Script pipelineScript = new GroovyShell(binding).parse(jenkinsfile)

/** Runs the conditions of a `post {}` block that apply to `result`, in Declarative's order. */
def runPost = { Closure postBody, String result, String where ->
    if (postBody == null) return
    PostBlock post = (PostBlock) withDelegate(postBody, new PostBlock())
    List<String> order = ['always', 'success', 'failure', 'notBuilt', 'aborted']
    Map<String, Boolean> applies = [always: true, success: result == 'SUCCESS', failure: result == 'FAILURE',
                                    notBuilt: result == 'NOT_BUILT', aborted: result == 'ABORTED']
    order.each { String condition ->
        Closure c = post.conditions[condition]
        if (c != null && applies[condition]) {
            events << [type: 'post', condition: condition, stage: where, agent: current.agent]
            try {
                c.call()
            } catch (StepFailure failure) {
                events << [type: 'post-failed', condition: condition, stage: where, message: failure.message]
            }
        }
    }
}

binding.setVariable('pipeline', { Closure body ->
    PipelineBlock pipeline = (PipelineBlock) withDelegate(body, new PipelineBlock())
    events << [type: 'agent', agent: pipeline.agent]
    if (pipeline.agent != 'none') current.agent = pipeline.agent
    if (pipeline.options != null) {
        ((OptionsBlock) withDelegate(pipeline.options, new OptionsBlock())).options.each { Map o -> events << ([type: 'option'] + o) }
    }
    EnvironmentBlock environment = (EnvironmentBlock) withDelegate(pipeline.environment, new EnvironmentBlock())
    environment.values.each { k, v -> env.setProperty(k, v) }
    StagesBlock stages = (StagesBlock) withDelegate(pipeline.stages, new StagesBlock())
    String stopped = null // 'failure' or 'abort' once a stage failed or was aborted
    stages.stages.each { List entry ->
        String name = (String) entry[0]
        StageBlock stage = (StageBlock) withDelegate((Closure) entry[1], new StageBlock())
        if (stopped != null) {
            events << [type: 'stage', name: name, status: "skipped-after-${stopped}".toString()]
            return
        }
        if (stage.when != null) {
            WhenBlock when = (WhenBlock) withDelegate(stage.when, new WhenBlock())
            if (stage.agent != null && !when.beforeAgent) throw new IllegalStateException("stage '${name}' takes an agent before its when")
            if (!when.expression.call()) {
                events << [type: 'stage', name: name, status: 'skipped-by-when']
                return
            }
        }
        Object savedAgent = current.agent
        if (stage.agent != null) current.agent = stage.agent
        current.stage = name
        events << [type: 'stage', name: name, status: 'run', agent: current.agent]
        String stageResult = 'SUCCESS'
        try {
            stage.steps.call()
        } catch (StepFailure failure) {
            events << [type: 'stage-failed', name: name, message: failure.message]
            stageResult = 'FAILURE'
            currentBuild.result = 'FAILURE'
            stopped = 'failure'
        } catch (FlowInterrupted interrupted) {
            events << [type: 'stage-aborted', name: name, message: interrupted.message]
            stageResult = 'ABORTED'
            currentBuild.result = 'ABORTED'
            stopped = 'abort'
        }
        runPost(stage.post, stageResult, name)
        current.agent = savedAgent
        current.stage = null
    }
    String result = currentBuild.result ?: 'SUCCESS'
    currentBuild.result = result
    runPost(pipeline.post, result, null)
})

pipelineScript.run()
println JsonOutput.toJson([result: currentBuild.result, events: events])
