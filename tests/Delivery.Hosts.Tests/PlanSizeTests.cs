using Delivery.Aws;
using Delivery.Hosts.Scripts;

namespace Delivery.Hosts.Tests;

/// <summary>Every plan travels inside one SSM command, whose parameters SSM limits to 64 KB.</summary>
public sealed class PlanSizeTests
{
    [Theory]
    [MemberData(nameof(PlanTests.Plans), MemberType = typeof(PlanTests))]
    public void Every_plan_wrapped_for_SSM_fits_the_command_limit(string name, string plan)
    {
        var bytes = SsmLimits.CommandBytes([HostCommand.Wrap(plan)]);
        Assert.True(bytes <= SsmLimits.MaxCommandBytes, $"{name}: {bytes:N0} bytes wrapped, over {SsmLimits.MaxCommandBytes:N0}");
    }

    [Fact]
    public void Comment_lines_go_but_directives_and_here_documents_stay()
    {
        const string script = """
            # a comment for readers
            f() {
              # indented comment
              # shellcheck disable=SC2034 # kept: a directive
              x=1 # trailing comment stays with its command
              cat > "$1" <<EOF
            # data: a line of the written file
            EOF
              cat <<-'BODY'
            	# data too
            	BODY
              echo $((x << 2)) # not a here-document
              # dropped again
            }
            """;

        Assert.Equal("""
            f() {
              # shellcheck disable=SC2034 # kept: a directive
              x=1 # trailing comment stays with its command
              cat > "$1" <<EOF
            # data: a line of the written file
            EOF
              cat <<-'BODY'
            	# data too
            	BODY
              echo $((x << 2)) # not a here-document
            }
            """, ShellFiles.WithoutComments(script));
    }
}
