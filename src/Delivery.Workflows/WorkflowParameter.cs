using System.Text;
using System.Text.RegularExpressions;
using Delivery.Core;

namespace Delivery.Workflows;

/// <summary>Where GitHub keeps a build parameter's value: an encrypted secret or a plain configuration variable.</summary>
public enum WorkflowParameterKind
{
    Secret,
    Variable,
}

/// <summary>
/// A build parameter the workflow imports by name. Parameter <c>RegistryPassword</c> (secret) becomes the step
/// environment entry <c>REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}</c>: only the reference is written,
/// GitHub substitutes the value at run time, and the build reads it from the environment.
/// </summary>
public sealed partial record WorkflowParameter(string Name, WorkflowParameterKind Kind)
{
    public static WorkflowParameter Secret(string name) => new(name, WorkflowParameterKind.Secret);
    public static WorkflowParameter Variable(string name) => new(name, WorkflowParameterKind.Variable);

    /// <summary>The environment variable the build reads, and the secret/variable name in GitHub: AwsRoleArn → AWS_ROLE_ARN.</summary>
    public string EnvironmentName => ToEnvironmentName(Name);

    /// <summary>The GitHub expression that yields the value, e.g. <c>${{ vars.AWS_ROLE_ARN }}</c>.</summary>
    public string Expression => WorkflowExpressions.Context(Kind == WorkflowParameterKind.Secret ? "secrets" : "vars", EnvironmentName);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || !ParameterName().IsMatch(Name))
            throw new DeliveryException($"Workflow parameter name '{Name}' is not valid: use a C# identifier such as 'RegistryPassword'.");
        if (EnvironmentName.StartsWith("GITHUB_", StringComparison.Ordinal))
            throw new DeliveryException($"Workflow parameter '{Name}' maps to '{EnvironmentName}', but GitHub reserves names starting with GITHUB_.");
    }

    /// <summary>PascalCase or camelCase to UPPER_SNAKE_CASE: AwsRoleArn → AWS_ROLE_ARN, ECRRegistry → ECR_REGISTRY, Ec2Host → EC2_HOST.</summary>
    public static string ToEnvironmentName(string parameterName)
    {
        var result = new StringBuilder();
        for (var i = 0; i < parameterName.Length; i++)
        {
            var c = parameterName[i];
            if (char.IsUpper(c) && i > 0 && parameterName[i - 1] != '_')
            {
                var previous = parameterName[i - 1];
                var nextIsLower = i + 1 < parameterName.Length && char.IsLower(parameterName[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower))
                    result.Append('_');
            }
            result.Append(char.ToUpperInvariant(c));
        }
        return result.ToString();
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex ParameterName();
}
