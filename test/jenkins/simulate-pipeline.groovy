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
//   "input": {"timeout": true} | {"abort": true} | {"pickLineMatching": "^2026-11-18", "approver": "alice"}
// }
// Prints one JSON object: {"result", "events": [...]} where events are stage/sh/input/echo/archive/post records.
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

/** Collects the top-level sections of `pipeline {}`. */
class PipelineBlock {
    Closure environment, stages, post
    void agent(Object any) {}
    void options(Closure c) { c.call() }
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

/** Collects a stage's `when` and `steps`. */
class StageBlock {
    Closure when, steps
    void when(Closure c) { when = c }
    void steps(Closure c) { steps = c }
}

/** Collects a `when {}` block's `expression {}`. */
class WhenBlock {
    Closure expression
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
    boolean returnStdout = argument instanceof Map && argument.returnStdout == true
    ProcessBuilder builder = new ProcessBuilder('sh', '-c', script).directory(workspace)
    builder.environment().clear()
    builder.environment().putAll(shellEnvironment())
    Process process = builder.start()
    process.outputStream.close()
    StringBuilder stdout = new StringBuilder()
    StringBuilder stderr = new StringBuilder()
    process.waitForProcessOutput(stdout, stderr)
    int code = process.exitValue()
    events << [type: 'sh', script: script, code: code, stdout: stdout.toString(), stderr: stderr.toString()]
    if (code != 0) throw new StepFailure("script returned exit code ${code}")
    return returnStdout ? stdout.toString() : null
}

def binding = new Binding()
binding.setVariable('env', env)
binding.setVariable('params', params)
binding.setVariable('currentBuild', currentBuild)
binding.setVariable('any', 'any')
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
    List patterns = ((String) options.artifacts).split(',').collect { it.trim() }
    events << [type: 'archive', artifacts: patterns.findAll { new File(workspace, it).exists() }, allowEmptyArchive: options.allowEmptyArchive]
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
    Map parameter = (Map) ((List) options.parameters)[0]
    List<String> choices = ((String) parameter.choices).split('\n') as List<String>
    events << [type: 'input', message: options.message, submitterParameter: options.submitterParameter,
               submitter: options.submitter, parameter: parameter.name, choices: choices]
    Map answer = (Map) spec.input
    if (answer.timeout) throw new FlowInterrupted('timeout expired')
    if (answer.abort) throw new FlowInterrupted('aborted by user')
    String picked = choices.find { it =~ (String) answer.pickLineMatching }
    if (picked == null) throw new IllegalStateException("no choice matches ${answer.pickLineMatching}: ${choices}")
    return [(parameter.name): picked, (options.submitterParameter): answer.approver]
})

Script pipelineScript = new GroovyShell(binding).parse(jenkinsfile)

binding.setVariable('pipeline', { Closure body ->
    PipelineBlock pipeline = (PipelineBlock) withDelegate(body, new PipelineBlock())
    EnvironmentBlock environment = (EnvironmentBlock) withDelegate(pipeline.environment, new EnvironmentBlock())
    environment.values.each { k, v -> env.setProperty(k, v) }
    StagesBlock stages = (StagesBlock) withDelegate(pipeline.stages, new StagesBlock())
    boolean failed = false
    stages.stages.each { List entry ->
        String name = (String) entry[0]
        StageBlock stage = (StageBlock) withDelegate((Closure) entry[1], new StageBlock())
        if (failed) {
            events << [type: 'stage', name: name, status: 'skipped-after-failure']
            return
        }
        if (stage.when != null) {
            WhenBlock when = (WhenBlock) withDelegate(stage.when, new WhenBlock())
            if (!when.expression.call()) {
                events << [type: 'stage', name: name, status: 'skipped-by-when']
                return
            }
        }
        events << [type: 'stage', name: name, status: 'run']
        try {
            stage.steps.call()
        } catch (StepFailure failure) {
            events << [type: 'stage-failed', name: name, message: failure.message]
            currentBuild.result = 'FAILURE'
            failed = true
        }
    }
    String result = currentBuild.result ?: 'SUCCESS'
    currentBuild.result = result
    PostBlock post = (PostBlock) withDelegate(pipeline.post, new PostBlock())
    List<String> order = ['always', 'success', 'failure', 'notBuilt', 'aborted']
    Map<String, Boolean> applies = [always: true, success: result == 'SUCCESS', failure: result == 'FAILURE',
                                    notBuilt: result == 'NOT_BUILT', aborted: result == 'ABORTED']
    order.each { String condition ->
        Closure c = post.conditions[condition]
        if (c != null && applies[condition]) {
            events << [type: 'post', condition: condition]
            try {
                c.call()
            } catch (StepFailure failure) {
                events << [type: 'post-failed', condition: condition, message: failure.message]
            }
        }
    }
})

pipelineScript.run()
println JsonOutput.toJson([result: currentBuild.result, events: events])
