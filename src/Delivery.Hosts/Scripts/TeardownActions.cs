namespace Delivery.Hosts.Scripts;

public static class TeardownActions
{
    /// <summary>Removes one environment: its frontend (a seamless reload keeps the others serving), its containers and
    /// images, and its state. Runs while holding the environment's lock, which is released last.</summary>
    public const string Environment = """
        teardown_environment() {
          acquire_lock "$proxy_lock_dir" 'the proxy' "teardown of $env_name" 60
          if [ -f "$proxy_fragment" ]; then
            rm -f "$proxy_fragment"
            if proxy_running; then load_proxy; fi
          fi
          release_lock "$proxy_lock_dir"
          remove_env_containers
          find "$env_dir" -mindepth 1 -maxdepth 1 ! -name lock -exec rm -rf {} +
          say "$env_name is torn down"
        }

        """;

    public const string Proxy = """
        teardown_proxy() {
          acquire_lock "$proxy_lock_dir" 'the proxy' 'teardown of the proxy' 60
          stop_proxy
          rm -rf "$proxy_conf_dir" "$proxy_dir/haproxy.log"
          release_lock "$proxy_lock_dir"
          rmdir "$proxy_dir" "$root/envs" 2>/dev/null || true
          say "the proxy is stopped and its configuration removed"
        }

        """;
}
