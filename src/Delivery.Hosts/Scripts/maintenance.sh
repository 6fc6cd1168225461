# shellcheck shell=bash
# Maintenance mode: the proxy answers every app route of one environment with a 503 page (the app's stylesheets, the
# operator's message, Retry-After), while /healthz and /readyz still reach the serving container, and so do the
# stylesheets the page uses. The truth is one state file, $env_dir/maintenance (present = on); the proxy's files are
# rendered from it: a map ($proxy_dir/maintenance/$backend.map: the flag, the message, Retry-After) and a page that
# reads the message from that map per request. Every environment's frontend always carries the rule, gated by the
# map's flag, so turning maintenance on or off is a runtime-API map update (no reload, no dropped connection), a
# deploy or a rollback leaves it as it is, and a restarted proxy (or a rebooted host) reads it back from disk.
# This file renders the proxy's side and reports the mode; maintenance-mode.sh turns it on and off.
# needs: lib/output.sh lib/host.sh

maintenance_state() { printf '%s' "$env_dir/maintenance"; }
maintenance_map() { printf '%s' "$proxy_dir/maintenance/$backend.map"; }
maintenance_page() { printf '%s' "$proxy_dir/maintenance/$backend.html"; }

html_escape() { sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&#39;/g"; }

# maintenance_render: the map and the page from the state file, each replaced atomically.
maintenance_render() {
  local state map page flag=off message retry
  state=$(maintenance_state) map=$(maintenance_map) page=$(maintenance_page)
  mkdir -p "$proxy_dir/maintenance"
  if [ -f "$state" ]; then flag=on; fi
  message=$(field "$state" message | html_escape)
  retry=$(field "$state" retry_after)
  printf 'maintenance %s\nmessage %s\nretry_after %s\n' "$flag" "${message:-This site is down for maintenance.}" "${retry:-300}" > "$map.tmp.$$"
  mv -f "$map.tmp.$$" "$map"
  # A log-format page: %[...] is evaluated per request, so a new message needs no reload; a literal % would be %%.
  cat > "$page.tmp.$$" <<EOF
<!DOCTYPE html>
<html lang="en">
<head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Down for maintenance · Continuous Development</title>
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <link rel="stylesheet" href="/lib/bootstrap/css/bootstrap.min.css" />
    <link rel="stylesheet" href="/css/site.css" />
</head>
<body class="d-flex flex-column min-vh-100">
    <header>
        <nav class="navbar navbar-dark site-navbar" aria-label="Main navigation">
            <div class="container">
                <a class="navbar-brand fw-semibold" href="/"><span class="brand-mark" aria-hidden="true">&#x27F3;</span> Continuous Development</a>
            </div>
        </nav>
    </header>
    <main class="flex-grow-1">
        <section class="page-header py-5">
            <div class="container">
                <p class="eyebrow">503 · maintenance</p>
                <h1 class="display-6 fw-semibold">Down for maintenance</h1>
                <p class="lead mb-0" data-testid="maintenance-message">%[str(message),map($map)]</p>
            </div>
        </section>
    </main>
    <footer class="site-footer mt-5">
        <div class="container py-3 small">Continuous Development</div>
    </footer>
</body>
</html>
EOF
  mv -f "$page.tmp.$$" "$page"
}

# maintenance_frontend_rules: the lines an environment's frontend carries (write_proxy_fragment prints them).
maintenance_frontend_rules() {
  local map page
  map=$(maintenance_map) page=$(maintenance_page)
  if [ ! -f "$map" ] || [ ! -f "$page" ]; then maintenance_render; fi
  printf '    acl maintenance_on str(maintenance),map(%s,off) -m str on\n' "$map"
  printf '    acl operator_path path /healthz /readyz\n'
  printf '    acl page_asset path /favicon.svg /css/site.css /lib/bootstrap/css/bootstrap.min.css\n'
  printf '    http-request return status 503 content-type "text/html; charset=utf-8" lf-file %s hdr Retry-After "%%[str(retry_after),map(%s,300)]" hdr Cache-Control no-store if maintenance_on !operator_path !page_asset\n' "$page" "$map"
}

# maintenance_report: one data line for status.
maintenance_report() {
  local state
  state=$(maintenance_state)
  if [ -f "$state" ]; then
    emit "{\"kind\":\"maintenance\",\"on\":true,\"since\":$(json_str "$(field "$state" since)"),\"by\":$(json_str "$(field "$state" by)"),\"retry_after\":$(field "$state" retry_after),\"message\":$(json_str "$(field "$state" message)")}"
  else
    emit '{"kind":"maintenance","on":false}'
  fi
}
