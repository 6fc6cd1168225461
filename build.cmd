@echo off
rem Bootstrapper for Windows: builds build\_build.csproj when its inputs changed, then runs it with the arguments.
rem build.cmd [targets...] [--options]   (build.cmd --help lists them)
setlocal
set "DOTNET_NOLOGO=1"
set "DOTNET_CLI_TELEMETRY_OPTOUT=1"
set "DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1"
set "ROOT=%~dp0."
set "TEMP_DIR=%ROOT%\.nuke\temp"
set "ARTIFACTS=%TEMP_DIR%\artifacts"
set "BUILD_DLL=%ARTIFACTS%\bin\_build\release\_build.dll"
set "STAMP=%TEMP_DIR%\build.stamp"

set "DOTNET="
for /f "delims=" %%d in ('where dotnet 2^>nul') do if not defined DOTNET set "DOTNET=%%d"
if not defined DOTNET if exist "%DOTNET_ROOT%\dotnet.exe" set "DOTNET=%DOTNET_ROOT%\dotnet.exe"
if not defined DOTNET (
  echo build.cmd: no dotnet on PATH and no %%DOTNET_ROOT%%\dotnet.exe; install the .NET SDK from global.json. 1>&2
  exit /b 1
)

if not exist "%TEMP_DIR%" mkdir "%TEMP_DIR%"

rem The hash of the inputs is computed by the PowerShell script at the end of this file. Without PowerShell the
rem hash stays empty and the build project is always built (MSBuild's own incremental build still applies).
set "HASH="
for /f "delims=" %%h in ('powershell -NoProfile -ExecutionPolicy Bypass -Command "$t = Get-Content -Raw -LiteralPath '%~f0'; $m = '#BEGIN' + '-INPUTS-HASH#'; Invoke-Expression $t.Substring($t.IndexOf($m) + $m.Length)" 2^>nul') do set "HASH=%%h"

set "CURRENT="
if exist "%STAMP%" set /p CURRENT=<"%STAMP%"
if not exist "%BUILD_DLL%" set "CURRENT="
if not defined HASH set "CURRENT="
if defined CURRENT if "%CURRENT%"=="%HASH%" goto run

if exist "%STAMP%" del "%STAMP%"
"%DOTNET%" build "%ROOT%\build\_build.csproj" --configuration Release --artifacts-path "%ARTIFACTS%" -nologo -verbosity:quiet -consoleLoggerParameters:NoSummary > "%TEMP_DIR%\build.log" 2>&1
if errorlevel 1 (
  type "%TEMP_DIR%\build.log" 1>&2
  echo build.cmd: compiling build\_build.csproj failed ^(log: %TEMP_DIR%\build.log^). 1>&2
  exit /b 1
)
if defined HASH (echo %HASH%)>"%STAMP%"

:run
"%DOTNET%" "%BUILD_DLL%" %*
exit /b %ERRORLEVEL%

#BEGIN-INPUTS-HASH#
# The projects _build is compiled from (build\ and its ProjectReferences, transitively), plus the root props.
$root = [IO.Path]::GetFullPath($env:ROOT)
$queue = [Collections.Generic.Queue[string]]::new()
$queue.Enqueue((Join-Path $root 'build\_build.csproj'))
$dirs = [Collections.Generic.HashSet[string]]::new()
while ($queue.Count -gt 0) {
  $project = [IO.Path]::GetFullPath($queue.Dequeue())
  $dir = Split-Path -Parent $project
  if (-not $dirs.Add($dir)) { continue }
  foreach ($ref in ([xml](Get-Content -Raw -LiteralPath $project)).SelectNodes('//ProjectReference')) {
    $queue.Enqueue((Join-Path $dir $ref.Include))
  }
}
$files = @($dirs | ForEach-Object { Get-ChildItem -LiteralPath $_ -Recurse -File } |
  Where-Object { $_.FullName -notmatch '[\\/](bin|obj)[\\/]' } | ForEach-Object { $_.FullName })
$files += @('Directory.Build.props', 'Directory.Build.targets', 'Directory.Packages.props', 'global.json', 'NuGet.config') |
  ForEach-Object { Join-Path $root $_ } | Where-Object { Test-Path -LiteralPath $_ }
$lines = $files | Sort-Object -Unique | ForEach-Object { "$((Get-FileHash -Algorithm SHA256 -LiteralPath $_).Hash) $_" }
$bytes = [Text.Encoding]::UTF8.GetBytes($env:DOTNET + "`n" + ($lines -join "`n"))
[BitConverter]::ToString([Security.Cryptography.SHA256]::Create().ComputeHash($bytes)).Replace('-', '')
