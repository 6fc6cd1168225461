namespace Delivery.Docker.Tests.Unit;

public sealed class AuthChallengeTests
{
    [Fact]
    public void A_bearer_challenge_keeps_commas_inside_quoted_values()
    {
        var challenge = AuthChallenge.Parse("""Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull,push",error="insufficient_scope" """)!;

        Assert.True(challenge.IsBearer);
        Assert.Equal("https://auth.example.com/token", challenge.Realm);
        Assert.Equal("registry.example.com", challenge.Service);
        Assert.Equal("repository:team/app:pull,push", challenge.Parameters["scope"]);
        Assert.Equal("insufficient_scope", challenge.Error);
    }

    [Fact]
    public void A_basic_challenge_and_nothing_at_all()
    {
        var basic = AuthChallenge.Parse("Basic realm=\"delivery-registry\"")!;
        Assert.True(basic.IsBasic);
        Assert.Equal("delivery-registry", basic.Realm);
        Assert.Null(AuthChallenge.Parse(""));
        Assert.Null(AuthChallenge.Parse(null));
    }
}
