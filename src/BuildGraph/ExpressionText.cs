using System.Globalization;
using System.Linq.Expressions;

namespace BuildGraph;

/// <summary>
/// Renders a condition the way it was written (<c>() => IsServerBuild</c> → <c>IsServerBuild</c>), dropping the
/// closure and <c>this</c> qualifiers the compiler adds, so skip reasons read like the source.
/// </summary>
internal static class ExpressionText
{
    public static string Of(LambdaExpression lambda) => Render(lambda.Body);

    /// <summary>The member a requirement points at (<c>() => RegistryPassword</c> → <c>RegistryPassword</c>), if any.</summary>
    public static string? MemberName(LambdaExpression lambda)
    {
        var body = lambda.Body;
        while (body is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } u) body = u.Operand;
        return body is MemberExpression m ? m.Member.Name : null;
    }

    static string Render(Expression? e) => e switch
    {
        null => "",
        MemberExpression m when m.Expression is null or ConstantExpression or ParameterExpression => m.Member.Name,
        MemberExpression m => $"{Render(m.Expression)}.{m.Member.Name}",
        ConstantExpression c => Literal(c.Value),
        UnaryExpression { NodeType: ExpressionType.Not } u => u.Operand is BinaryExpression ? $"!({Render(u.Operand)})" : $"!{Render(u.Operand)}",
        UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked or ExpressionType.Quote } u => Render(u.Operand),
        UnaryExpression { NodeType: ExpressionType.Negate } u => $"-{Render(u.Operand)}",
        BinaryExpression b => $"{Operand(AsEnum(b.Left, b.Right), Precedence(b.NodeType), false)} {Operator(b.NodeType)} {Operand(AsEnum(b.Right, b.Left), Precedence(b.NodeType), true)}",
        MethodCallExpression call => Call(call),
        ConditionalExpression c => $"{Operand(c.Test, 0, false)} ? {Operand(c.IfTrue, 0, false)} : {Operand(c.IfFalse, 0, false)}",
        InvocationExpression i => $"{Render(i.Expression)}({string.Join(", ", i.Arguments.Select(Render))})",
        _ => e.ToString(),
    };

    /// <summary>The compiler compares enums as integers (<c>Configuration == 1</c>); show the constant as the enum value.</summary>
    static Expression AsEnum(Expression side, Expression other)
    {
        if (side is not ConstantExpression { Value: not null } constant
            || other is not UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
            return side;
        var type = Nullable.GetUnderlyingType(convert.Operand.Type) ?? convert.Operand.Type;
        return type.IsEnum ? Expression.Constant(Enum.ToObject(type, constant.Value), type) : side;
    }

    /// <summary>Parenthesizes an operand only where C# would need it.</summary>
    static string Operand(Expression e, int parent, bool right)
    {
        var own = e switch
        {
            BinaryExpression b => Precedence(b.NodeType),
            ConditionalExpression => -1,
            _ => int.MaxValue,
        };
        return own < parent || (right && own == parent) ? $"({Render(e)})" : Render(e);
    }

    static int Precedence(ExpressionType type) => type switch
    {
        ExpressionType.Coalesce => 0,
        ExpressionType.OrElse => 1,
        ExpressionType.AndAlso => 2,
        ExpressionType.Or => 3,
        ExpressionType.ExclusiveOr => 4,
        ExpressionType.And => 5,
        ExpressionType.Equal or ExpressionType.NotEqual => 6,
        ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual => 7,
        ExpressionType.Add or ExpressionType.Subtract => 8,
        _ => 9,
    };

    static string Call(MethodCallExpression call)
    {
        var arguments = call.Arguments.Select(Render).ToList();
        if (call.Method.IsDefined(typeof(System.Runtime.CompilerServices.ExtensionAttribute), false) && arguments.Count > 0)
            return $"{Operand(call.Arguments[0], int.MaxValue, false)}.{call.Method.Name}({string.Join(", ", arguments.Skip(1))})";
        var target = call.Object is null or ConstantExpression or ParameterExpression
            ? call.Object is null && call.Method.DeclaringType is { } t && !typeof(BuildBase).IsAssignableFrom(t) ? t.Name + "." : ""
            : Render(call.Object) + ".";
        return $"{target}{call.Method.Name}({string.Join(", ", arguments)})";
    }

    static string Literal(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        bool b => b ? "true" : "false",
        char c => $"'{c}'",
        Enum en => $"{en.GetType().Name}.{en}",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    static string Operator(ExpressionType type) => type switch
    {
        ExpressionType.AndAlso => "&&",
        ExpressionType.OrElse => "||",
        ExpressionType.Equal => "==",
        ExpressionType.NotEqual => "!=",
        ExpressionType.LessThan => "<",
        ExpressionType.LessThanOrEqual => "<=",
        ExpressionType.GreaterThan => ">",
        ExpressionType.GreaterThanOrEqual => ">=",
        ExpressionType.Add => "+",
        ExpressionType.Subtract => "-",
        ExpressionType.Multiply => "*",
        ExpressionType.Divide => "/",
        ExpressionType.Modulo => "%",
        ExpressionType.And => "&",
        ExpressionType.Or => "|",
        ExpressionType.ExclusiveOr => "^",
        ExpressionType.Coalesce => "??",
        _ => type.ToString(),
    };
}
