namespace Delivery.Provisioning.Tests;

/// <summary>The plans the issue asks for, pinned as the text the build prints.</summary>
public sealed class PlanFixtureTests
{
    static string PlanText(MachineState machine) => ProvisioningPlanner.Plan(machine, Fixtures.TestNeeds).Describe();

    [Fact]
    public void Fresh_Debian_12_as_root_installs_everything_with_apt_and_starts_dockerd()
    {
        Assert.Equal("""
            Provisioning plan for Debian GNU/Linux 12 (bookworm), user root
              install  docker.io (dockerd), chromium, docker-registry, apache2-utils (htpasswd), haproxy, socat, busybox-static (busybox), prometheus (promtool, prometheus), wrk, shellcheck, ansible-core (ansible-playbook), openssl, iproute2 (ip), curl, awscli (aws)
              run      apt-get update -qq
              run      env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io chromium docker-registry apache2-utils haproxy socat busybox-static prometheus wrk shellcheck ansible-core openssl iproute2 curl awscli
              run      setsid -f /bin/sh -c 'exec "$1" >>"$2" 2>&1 </dev/null' dockerd /usr/sbin/dockerd /var/log/dockerd.log
              wait     until the engine answers at unix:///var/run/docker.sock
            """ + "\n", PlanText(Fixtures.FreshDebianRoot));
    }

    [Fact]
    public void Ubuntu_24_04_runner_uses_docker_ce_and_google_chrome_and_installs_the_rest_through_sudo()
    {
        Assert.Equal("""
            Provisioning plan for Ubuntu 24.04.1 LTS, user runner (not root; sudo -n works)
              have     Docker Engine: answers at unix:///var/run/docker.sock; no second engine (docker.io) is installed next to it
              have     browser: /usr/bin/google-chrome, passed to the tests as CHROMIUM_PATH (Ubuntu has no Chromium deb)
              have     shellcheck, openssl, ip, curl, aws
              install  docker-registry, apache2-utils (htpasswd), haproxy, socat, busybox-static (busybox), prometheus (promtool, prometheus), wrk, ansible-core (ansible-playbook)
              run      sudo -n apt-get update -qq
              run      sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker-registry apache2-utils haproxy socat busybox-static prometheus wrk ansible-core
            """ + "\n", PlanText(Fixtures.Ubuntu2404Runner));
    }

    [Fact]
    public void Ubuntu_22_04_as_root_installs_docker_io_and_uses_microsoft_edge()
    {
        Assert.Equal("""
            Provisioning plan for Ubuntu 22.04.5 LTS, user root
              have     browser: /usr/bin/microsoft-edge, passed to the tests as CHROMIUM_PATH (Ubuntu has no Chromium deb)
              have     openssl, ip, curl
              install  docker.io (dockerd), docker-registry, apache2-utils (htpasswd), haproxy, socat, busybox-static (busybox), prometheus (promtool, prometheus), wrk, shellcheck, ansible-core (ansible-playbook), awscli (aws)
              run      apt-get update -qq
              run      env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io docker-registry apache2-utils haproxy socat busybox-static prometheus wrk shellcheck ansible-core awscli
              run      setsid -f /bin/sh -c 'exec "$1" >>"$2" 2>&1 </dev/null' dockerd /usr/sbin/dockerd /var/log/dockerd.log
              wait     until the engine answers at unix:///var/run/docker.sock
            """ + "\n", PlanText(Fixtures.Ubuntu2204Root));
    }

    [Fact]
    public void Ubuntu_without_any_browser_fails_in_one_line_naming_the_replacements()
    {
        Assert.Equal("""
            Provisioning plan for Ubuntu 22.04.5 LTS, user root
              have     openssl, ip, curl
              missing  docker.io (dockerd), docker-registry, apache2-utils (htpasswd), haproxy, socat, busybox-static (busybox), prometheus (promtool, prometheus), wrk, shellcheck, ansible-core (ansible-playbook), awscli (aws)
              fail     Cannot provision Ubuntu 22.04.5 LTS: there is no Chromium-family browser, and Ubuntu has no Chromium deb (/usr/bin/chromium-browser is only the snap transition stub): install google-chrome-stable or microsoft-edge-stable from its vendor's apt repository, or set CHROMIUM_PATH to a Chromium-family browser; then build again
            """ + "\n", PlanText(Fixtures.Ubuntu2204Root with { Browsers = [] }));
    }

    [Fact]
    public void Not_root_without_sudo_fails_in_one_line_naming_the_packages()
    {
        Assert.Equal("""
            Provisioning plan for Debian GNU/Linux 12 (bookworm), user dev (not root; no password-less sudo)
              have     Docker Engine: answers at unix:///var/run/docker.sock; no second engine (docker.io) is installed next to it
              have     browser: /usr/bin/chromium, passed to the tests as CHROMIUM_PATH
              have     docker-registry, haproxy, socat, promtool, prometheus, wrk, shellcheck, ansible-playbook, openssl, ip, curl, aws
              missing  apache2-utils (htpasswd), busybox-static (busybox)
              fail     Cannot provision Debian GNU/Linux 12 (bookworm): apache2-utils busybox-static are missing and this user (dev) is not root and 'sudo -n true' fails: run 'sudo apt-get install -y apache2-utils busybox-static'; then build again
            """ + "\n", PlanText(Fixtures.DebianWithoutSudo));
    }

    [Fact]
    public void An_unknown_distribution_fails_in_one_line_listing_what_is_missing()
    {
        Assert.Equal("""
            Provisioning plan for Fedora Linux 40 (Workstation Edition), user root
              have     Docker Engine: answers at unix:///var/run/docker.sock; no second engine (docker.io) is installed next to it
              have     browser: /usr/bin/chromium-browser, passed to the tests as CHROMIUM_PATH
              have     haproxy, socat, openssl, ip, curl
              fail     Cannot provision Fedora Linux 40 (Workstation Edition): docker-registry, htpasswd, busybox, promtool, prometheus, wrk, shellcheck, ansible-playbook, aws are missing, and the build installs packages only on Debian 12 and Ubuntu 22.04/24.04: install them yourself; then build again
            """ + "\n", PlanText(Fixtures.FedoraRoot));
    }
}
