using System.Text.Json;

namespace Delivery.Aws.Tests;

/// <summary>The IAM documents in iam/ parse, grant what the build calls, and stay scoped to this app.</summary>
public sealed class IamPolicyTests
{
    static readonly string Folder = FindIam();

    static string FindIam()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "build.sh")) && Directory.Exists(Path.Combine(dir.FullName, "iam")))
                return Path.Combine(dir.FullName, "iam");
        throw new InvalidOperationException("no iam/ folder above the test assembly");
    }

    sealed record Statement(string Sid, string Effect, string[] Actions, string[] Resources, JsonElement Element);

    static List<Statement> Statements(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, file)));
        Assert.Equal("2012-10-17", doc.RootElement.GetProperty("Version").GetString());
        return doc.RootElement.GetProperty("Statement").EnumerateArray().Select(s => new Statement(
            s.GetProperty("Sid").GetString()!, s.GetProperty("Effect").GetString()!,
            Strings(s, "Action"), Strings(s, "Resource"), s.Clone())).ToList();
    }

    static string[] Strings(JsonElement e, string name) =>
        !e.TryGetProperty(name, out var v) ? []
        : v.ValueKind == JsonValueKind.String ? [v.GetString()!]
        : v.EnumerateArray().Select(x => x.GetString()!).ToArray();

    /// <summary>What SsmClient calls during a deploy, a status and a promotion.</summary>
    static readonly string[] SsmCalls =
        ["ssm:SendCommand", "ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation", "ssm:CancelCommand",
         "ssm:GetParameter", "ssm:GetParameterHistory", "ssm:PutParameter"];

    [Fact]
    public void The_deploy_role_allows_every_call_the_build_makes_and_no_wildcard_action()
    {
        var statements = Statements("deploy-role-policy.json");

        Assert.All(statements, s => Assert.Equal("Allow", s.Effect));
        Assert.Subset(statements.SelectMany(s => s.Actions).ToHashSet(), SsmCalls.ToHashSet());
        Assert.DoesNotContain(statements.SelectMany(s => s.Actions), a => a.Contains('*') || a.StartsWith("iam:", StringComparison.Ordinal));
    }

    [Fact]
    public void SendCommand_is_limited_to_the_shell_document_and_to_instances_tagged_for_the_app()
    {
        var send = Statements("deploy-role-policy.json").Where(s => s.Actions.Contains("ssm:SendCommand")).ToList();

        Assert.All(send, s => Assert.Equal(["ssm:SendCommand"], s.Actions));
        var resources = send.SelectMany(s => s.Resources).ToList();
        Assert.DoesNotContain("*", resources);
        Assert.Contains($"arn:aws:ssm:${{Region}}::document/{SsmLimits.RunShellScript}", resources);
        Assert.Equal(2, resources.Count);
        var instances = send.Single(s => s.Resources.Single().Contains(":instance/"));
        Assert.Equal("webapp", instances.Element.GetProperty("Condition").GetProperty("StringEquals").GetProperty("aws:ResourceTag/App").GetString());
    }

    [Fact]
    public void Parameter_writes_and_ECR_pushes_reach_only_this_app()
    {
        var statements = Statements("deploy-role-policy.json");

        var parameters = statements.Where(s => s.Actions.Any(a => a.Contains("Parameter"))).SelectMany(s => s.Resources).ToList();
        Assert.Equal(["arn:aws:ssm:${Region}:${Account}:parameter/webapp/*"], parameters);
        var push = statements.Single(s => s.Actions.Contains("ecr:PutImage"));
        Assert.Equal(["arn:aws:ecr:${Region}:${Account}:repository/webapp"], push.Resources);
        Assert.All(statements.Where(s => s.Resources.Contains("*")),
            s => Assert.All(s.Actions, a => Assert.Contains(a, new[] { "ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation", "ssm:CancelCommand", "ecr:GetAuthorizationToken" })));
    }

    [Fact]
    public void The_instance_role_pulls_and_reads_but_never_writes_or_sends()
    {
        var statements = Statements("instance-role-policy.json");
        var actions = statements.SelectMany(s => s.Actions).ToList();

        Assert.Contains("ecr:BatchGetImage", actions);
        Assert.Contains("ssm:GetParameter", actions);
        Assert.DoesNotContain(actions, a => a is "ecr:PutImage" or "ecr:InitiateLayerUpload" or "ssm:PutParameter" or "ssm:SendCommand" || a.Contains('*'));
        Assert.Equal(["arn:aws:ecr:${Region}:${Account}:repository/webapp"], statements.Single(s => s.Actions.Contains("ecr:BatchGetImage")).Resources);
        using var managed = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "instance-role-managed-policies.json")));
        Assert.Equal(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"],
            managed.RootElement.GetProperty("ManagedPolicyArns").EnumerateArray().Select(e => e.GetString()!));
        var trust = Statements("instance-trust-policy.json").Single();
        Assert.Equal("ec2.amazonaws.com", trust.Element.GetProperty("Principal").GetProperty("Service").GetString());
    }

    [Fact]
    public void The_GitHub_trust_is_scoped_to_the_repository_its_main_branch_tags_and_environments()
    {
        var trust = Statements("github-oidc-trust-policy.json").Single();
        var condition = trust.Element.GetProperty("Condition");

        Assert.Equal(["sts:AssumeRoleWithWebIdentity"], trust.Actions);
        Assert.EndsWith(":oidc-provider/token.actions.githubusercontent.com", trust.Element.GetProperty("Principal").GetProperty("Federated").GetString());
        Assert.Equal("sts.amazonaws.com", condition.GetProperty("StringEquals").GetProperty("token.actions.githubusercontent.com:aud").GetString());
        var subjects = Strings(condition.GetProperty("StringLike"), "token.actions.githubusercontent.com:sub");
        Assert.All(subjects, s => Assert.StartsWith("repo:${GitHubRepository}:", s));
        Assert.Equal(
            ["repo:${GitHubRepository}:environment:production", "repo:${GitHubRepository}:environment:staging",
             "repo:${GitHubRepository}:ref:refs/heads/main", "repo:${GitHubRepository}:ref:refs/tags/*"],
            subjects.Order(StringComparer.Ordinal));
    }
}
