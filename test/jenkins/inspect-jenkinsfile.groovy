// @module inspect-jenkinsfile.groovy — compiles a Jenkinsfile with the real Groovy compiler and
// prints, as JSON, every `sh` step's script argument and every interpolated string (GString).
//
// Usage: groovy inspect-jenkinsfile.groovy path/to/Jenkinsfile
// A declarative `pipeline {}` needs Jenkins to run, but not to compile: GroovyShell.parse checks
// the syntax (and resolves imports) without running anything. The AST walk then tells apart a
// constant string ('…', or "…" without ${}) from a GString, which is what interpolation makes.
import groovy.json.JsonOutput
import org.codehaus.groovy.ast.CodeVisitorSupport
import org.codehaus.groovy.ast.ModuleNode
import org.codehaus.groovy.ast.expr.ConstantExpression
import org.codehaus.groovy.ast.expr.Expression
import org.codehaus.groovy.ast.expr.GStringExpression
import org.codehaus.groovy.ast.expr.MapExpression
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.ast.expr.TupleExpression
import org.codehaus.groovy.control.CompilationUnit
import org.codehaus.groovy.control.Phases

File file = new File(args[0])

// 1. The real parse: throws (non-zero exit) on any syntax error.
new GroovyShell().parse(file)

// 2. The AST, for the static checks.
CompilationUnit unit = new CompilationUnit()
unit.addSource(file)
unit.compile(Phases.CONVERSION)

List shSteps = []
List gstrings = []

def describe = { Expression expression ->
    if (expression instanceof ConstantExpression && expression.value instanceof String) {
        return [kind: 'constant', text: expression.value]
    }
    if (expression instanceof GStringExpression) {
        return [kind: 'gstring', text: expression.text]
    }
    return [kind: expression == null ? 'missing' : expression.getClass().simpleName, text: expression?.text]
}

CodeVisitorSupport visitor = new CodeVisitorSupport() {
    @Override
    void visitMethodCallExpression(MethodCallExpression call) {
        if (call.methodAsString == 'sh') {
            Expression script = null
            Expression arguments = call.arguments
            if (arguments instanceof TupleExpression) {
                List<Expression> expressions = ((TupleExpression) arguments).expressions
                Expression first = expressions.isEmpty() ? null : expressions[0]
                if (first instanceof MapExpression) {
                    script = ((MapExpression) first).mapEntryExpressions.find { it.keyExpression.text == 'script' }?.valueExpression
                } else {
                    script = first
                }
            }
            shSteps << ([line: call.lineNumber] + describe(script))
        }
        super.visitMethodCallExpression(call)
    }

    @Override
    void visitGStringExpression(GStringExpression expression) {
        gstrings << [line: expression.lineNumber, text: expression.text]
        super.visitGStringExpression(expression)
    }
}

// The script class holds both the script body (its run() method) and the script's methods.
unit.AST.modules.each { ModuleNode module ->
    module.classes.each { classNode ->
        classNode.methods.each { it.code?.visit(visitor) }
        classNode.fields.each { it.initialExpression?.visit(visitor) }
    }
}

println JsonOutput.toJson([file: file.path, shSteps: shSteps, gstrings: gstrings])
