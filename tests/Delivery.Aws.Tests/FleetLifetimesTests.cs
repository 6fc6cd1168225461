using Delivery.Core;

namespace Delivery.Aws.Tests;

public sealed class FleetLifetimesTests
{
    [Theory]
    // instances, concurrency, budget s → TimeoutSeconds (last wave starts before it), executionTimeout
    [InlineData(1, 1, 240, 60, 240)]
    [InlineData(6, 1, 240, 5 * 240 + 60, 240)]
    [InlineData(6, 2, 240, 2 * 240 + 60, 240)]
    [InlineData(6, 50, 240, 60, 240)]
    [InlineData(3, 1, 3, 2 * 5 + 60, 5)]
    public void Lifetimes_cover_every_wave_of_the_roll(int instances, int concurrency, int budget, int delivery, int execution)
    {
        var l = FleetLifetimes.For(instances, concurrency, TimeSpan.FromSeconds(budget));

        Assert.Equal((delivery, execution), (l.DeliveryTimeoutSeconds, l.ExecutionTimeoutSeconds));
        // The last wave starts by (waves - 1) × budget and must still be allowed to start, and to finish before expiry.
        var lastStart = (l.Waves - 1) * l.ExecutionTimeoutSeconds;
        Assert.True(lastStart < l.DeliveryTimeoutSeconds);
        Assert.True(lastStart + l.ExecutionTimeoutSeconds <= l.CommandLifetime.TotalSeconds);
        Assert.Equal(l.CommandLifetime + TimeSpan.FromSeconds(FleetLifetimes.ResultMarginSeconds), l.BuildDeadline);
    }

    [Fact]
    public void A_percentage_resolves_against_the_instances_as_SSM_does()
    {
        Assert.Equal(2, FleetLifetimes.For(8, "25%", TimeSpan.FromMinutes(4)).Concurrency);
        Assert.Equal(1, FleetLifetimes.For(3, "10%", TimeSpan.FromMinutes(4)).Concurrency);
    }

    [Fact]
    public void A_roll_that_cannot_finish_in_time_fails_in_one_line_naming_a_concurrency_that_fits()
    {
        var error = Assert.Throws<DeliveryException>(() => FleetLifetimes.For(12, 1, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(30)));

        var fits = Enumerable.Range(1, 12).First(c => FleetLifetimes.For(12, c, TimeSpan.FromMinutes(5)).BuildDeadline <= TimeSpan.FromMinutes(30));
        Assert.Equal($"A roll of 12 instance(s), 1 at a time (12 wave(s) of 300 s) may take {FleetLifetimes.For(12, 1, TimeSpan.FromMinutes(5)).BuildDeadline.TotalMinutes:0.#} min, " +
                     $"over the 30 min it must finish within (--fleet-time-limit); --max-concurrency {fits} fits; nothing was sent", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void A_budget_over_the_agent_s_execution_limit_fails_before_sending()
    {
        var error = Assert.Throws<DeliveryException>(() => FleetLifetimes.For(1, 1, TimeSpan.FromDays(3)));
        Assert.Equal($"One instance needs {3 * 86400} s (health + bake + drain + stop + margin), over the agent's 172800 s executionTimeout limit; nothing was sent", error.Message);
    }

    [Fact]
    public void A_lock_wait_lengthens_every_instance_s_execution_timeout_but_the_roll_only_once()
    {
        var without = FleetLifetimes.For(6, 1, TimeSpan.FromSeconds(240));
        var with = FleetLifetimes.For(6, 1, TimeSpan.FromSeconds(240), lockWait: TimeSpan.FromSeconds(600));

        Assert.Equal(without.ExecutionTimeoutSeconds + 600, with.ExecutionTimeoutSeconds);
        Assert.Equal(without.DeliveryTimeoutSeconds + 600, with.DeliveryTimeoutSeconds);
        Assert.Contains("6 wave(s) of 240 s, a lock wait of 600 s once", with.ToString());
    }

    [Fact]
    public void The_workflow_s_deploy_jobs_leave_room_for_six_production_instances_one_at_a_time()
    {
        var workflow = new Delivery.Workflows.WorkflowDefinition { Name = "delivery" };
        var production = Delivery.Hosts.DeployEnvironment.Production;
        var options = new Delivery.Hosts.DeployOptions
        {
            LockWait = TimeSpan.FromSeconds(workflow.DeployLockWaitSeconds),
            Bake = new Delivery.Hosts.Bake.BakeSettings { Duration = production.BakeTime },
        };
        var needs = Delivery.Hosts.Deployer.ScriptNeeds(production, options);

        var lifetimes = FleetLifetimes.For(6, 1, FleetLifetimes.PerInstance(needs.Steps, TimeSpan.Zero), TimeSpan.FromMinutes(workflow.FleetTimeLimitMinutes), needs.LockWait);

        Assert.True(lifetimes.BuildDeadline <= TimeSpan.FromMinutes(workflow.DeployTimeoutMinutes - workflow.DeploySetupMinutes), lifetimes.ToString());
    }
}
