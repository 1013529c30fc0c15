# cwh-collector-version: 2
# ConnectWise ScreenConnect hardening audit: the fact collector.
#
# Runs once per host per audit (Windows PowerShell 5.1 or later) and only reads. The suite sends
# it over stdin behind a short bootstrap, after one line that defines $CwhRequest (JSON naming
# the sections and values wanted), so its size never meets cmd.exe's 8191-character limit.
# Raw outputs (secedit INF, netsh text, XML configs) are returned as text and parsed in Python.
#
# Output: a single line "CWH-FACTS-GZIP:<base64 of gzip of UTF-8 JSON>", immune to console code
# pages. Every section reports ok/data or ok=false/error, so one failure never hides as "absent".

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
# Cmdlets from script and CDXML modules (NetSecurity, NetTCPIP, ...) run in their module's scope
# and never see this script's $ErrorActionPreference: a failed query writes a non-terminating
# error and returns nothing, which would read as "no firewall rules". So every command defaults
# to -ErrorAction Stop (and the module cmdlets also say so where they are called).
$PSDefaultParameterValues = @{ '*:ErrorAction' = 'Stop' }
$ProgressPreference = 'SilentlyContinue'
$WarningPreference = 'SilentlyContinue'

$request = ConvertFrom-Json -InputObject $CwhRequest
$MaxTextBytes = [int]$request.max_text_bytes

function Get-CwhErrorText {
    param($ErrorRecord)
    return (($ErrorRecord.Exception.Message -replace '\s+', ' ').Trim())
}

function Invoke-CwhSection {
    param([scriptblock]$Body)
    $started = [DateTime]::UtcNow
    try {
        $data = & $Body
        return [ordered]@{
            ok = $true
            data = $data
            ms = [int]([DateTime]::UtcNow - $started).TotalMilliseconds
        }
    } catch {
        return [ordered]@{
            ok = $false
            error = Get-CwhErrorText $_
            error_type = $_.Exception.GetType().FullName
            ms = [int]([DateTime]::UtcNow - $started).TotalMilliseconds
        }
    }
}

# Native tools write to stderr; under 'Stop' that would abort the section, so relax it here
# and judge by exit code instead.
function Invoke-CwhNative {
    param([string]$FilePath, [string[]]$Arguments)
    $ErrorActionPreference = 'Continue'
    $lines = @(& $FilePath @Arguments 2>&1 | ForEach-Object { "$_" })
    return [ordered]@{ exit_code = $LASTEXITCODE; output = ($lines -join "`r`n") }
}

function Read-CwhText {
    param([string]$Path)
    $item = Get-Item -LiteralPath $Path
    if ($item.Length -gt $MaxTextBytes) {
        throw "$Path is $($item.Length) bytes, over the collector's limit of $MaxTextBytes"
    }
    return [IO.File]::ReadAllText($Path)
}

function ConvertTo-CwhIsoDate {
    param($Value)
    if ($null -eq $Value) { return $null }
    return ([DateTime]$Value).ToUniversalTime().ToString('o')
}

# --- registry ---------------------------------------------------------------------------------

# A function's output is unrolled: `return @($x)` hands the caller a lone string for a one-line
# REG_MULTI_SZ and $null for an empty one. The unary comma returns the array as one object.
function ConvertTo-CwhRegistryData {
    param([string]$Kind, $Raw)
    switch ($Kind) {
        # GetValue returns DWORD/QWORD as signed integers; report the unsigned value Windows shows.
        'DWord' { return [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$Raw), 0) }
        'QWord' { return [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$Raw), 0) }
        'MultiString' { return ,[string[]]@($Raw) }
        'Binary' { return [Convert]::ToBase64String([byte[]]$Raw) }
        # REG_NONE and unknown kinds come back as byte arrays, unrolled like any array.
        default {
            if ($Raw -is [byte[]]) { return [Convert]::ToBase64String($Raw) }
            return $Raw
        }
    }
}

function Read-CwhRegistryValue {
    param([string]$Path, [string]$Name)
    $result = [ordered]@{
        path = $Path; name = $Name; key_exists = $false; value_exists = $false
        kind = $null; value = $null; error = $null
    }
    try {
        $split = $Path.IndexOf('\')
        if ($split -lt 0 -or $Path.Substring(0, $split) -ne 'HKLM') {
            throw "only HKLM paths are supported: $Path"
        }
        $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
            [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
        $key = $base.OpenSubKey($Path.Substring($split + 1), $false)
        if ($null -ne $key) {
            try {
                $result.key_exists = $true
                if (@($key.GetValueNames()) -contains $Name) {
                    $kind = $key.GetValueKind($Name).ToString()
                    $raw = $key.GetValue($Name, $null,
                        [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
                    $result.value_exists = $true
                    $result.kind = $kind
                    $result.value = ConvertTo-CwhRegistryData -Kind $kind -Raw $raw
                }
            } finally {
                $key.Close()
            }
        }
    } catch {
        $result.error = Get-CwhErrorText $_
    }
    return $result
}

function Get-CwhRegistry {
    $values = @(foreach ($item in @($request.registry)) {
        Read-CwhRegistryValue -Path $item.path -Name $item.name
    })
    return [ordered]@{ view = 'Registry64'; values = $values }
}

# --- system -----------------------------------------------------------------------------------

function Get-CwhOs {
    $os = Get-CimInstance -ClassName Win32_OperatingSystem
    return [ordered]@{
        caption = $os.Caption
        version = $os.Version
        build = $os.BuildNumber
        product_type = [int]$os.ProductType
        language = [int]$os.OSLanguage
        architecture = $os.OSArchitecture
        last_boot = ConvertTo-CwhIsoDate $os.LastBootUpTime
    }
}

function Get-CwhIdentity {
    $cs = Get-CimInstance -ClassName Win32_ComputerSystem
    $adapters = @(Get-CimInstance -ClassName Win32_NetworkAdapterConfiguration -Filter 'IPEnabled = True')
    $me = [Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object Security.Principal.WindowsPrincipal($me)
    return [ordered]@{
        computer_name = $cs.Name
        dns_host_name = $cs.DNSHostName
        domain = $cs.Domain
        part_of_domain = [bool]$cs.PartOfDomain
        domain_role = [int]$cs.DomainRole
        ip_addresses = @($adapters | ForEach-Object { $_.IPAddress } | Where-Object { $_ })
        mac_addresses = @($adapters | ForEach-Object { $_.MACAddress } | Where-Object { $_ })
        user = $me.Name
        user_sid = $me.User.Value
        is_admin = $principal.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)
    }
}

# secedit needs administrative rights; "access denied" must surface as an error, never as
# "no rights assigned", so the exit code and the file are both checked.
function Get-CwhSecedit {
    $file = Join-Path ([IO.Path]::GetTempPath()) ("cwh-secedit-{0}.inf" -f [guid]::NewGuid().ToString('N'))
    try {
        $run = Invoke-CwhNative -FilePath "$env:SystemRoot\System32\secedit.exe" -Arguments @(
            '/export', '/cfg', $file, '/areas', 'SECURITYPOLICY', 'USER_RIGHTS', '/quiet')
        if ($run.exit_code -ne 0 -or -not (Test-Path -LiteralPath $file)) {
            throw ("secedit /export failed with exit code {0}: {1}" -f $run.exit_code, $run.output)
        }
        return [ordered]@{
            command = 'secedit /export /areas SECURITYPOLICY USER_RIGHTS'
            inf = [IO.File]::ReadAllText($file, [Text.Encoding]::Unicode)
        }
    } finally {
        Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue
    }
}

# Get-LocalGroupMember's ObjectClass is a resource string of the LocalAccounts module, translated
# on localized Windows ("Benutzer", "Gruppe"). The module's own LocalUser and LocalGroup objects
# carry the same strings, so comparing with them gives the type whatever the language: User,
# Group, Other, or $null when the texts cannot be told apart (or the types are not there).
function Get-CwhMemberType([string]$class) {
    try {
        $user = (New-Object Microsoft.PowerShell.Commands.LocalUser).ObjectClass
        $group = (New-Object Microsoft.PowerShell.Commands.LocalGroup).ObjectClass
    } catch { return $null }
    if ($user -ceq $group) { return $null }
    if ($class -ceq $user) { return 'User' }
    if ($class -ceq $group) { return 'Group' }
    return 'Other'
}

# Administrators by its well-known SID (the name is localized). Get-LocalGroupMember fails on
# orphaned SIDs, so fall back to ADSI and report members whose SID does not resolve. ADSI's
# class names (User, Group) are schema names, never translated.
function Get-CwhLocalAdmins {
    $sid = New-Object Security.Principal.SecurityIdentifier('S-1-5-32-544')
    $groupName = $sid.Translate([Security.Principal.NTAccount]).Value
    $method = 'Get-LocalGroupMember'
    $note = $null
    try {
        $members = @(Get-LocalGroupMember -SID $sid | ForEach-Object {
            [ordered]@{
                name = $_.Name; sid = $_.SID.Value; object_class = "$($_.ObjectClass)"
                member_type = Get-CwhMemberType "$($_.ObjectClass)"
                principal_source = "$($_.PrincipalSource)"; resolved = $true
            }
        })
    } catch {
        $note = "Get-LocalGroupMember failed ($(Get-CwhErrorText $_)); members read through ADSI"
        $method = 'ADSI'
        $group = [ADSI]("WinNT://{0}/{1},group" -f $env:COMPUTERNAME, $groupName.Split('\')[-1])
        $members = @(foreach ($member in @($group.Invoke('Members'))) {
            $type = $member.GetType()
            $bytes = $type.InvokeMember('objectSid', 'GetProperty', $null, $member, $null)
            $memberSid = New-Object Security.Principal.SecurityIdentifier($bytes, 0)
            $name = $null
            $resolved = $true
            try { $name = $memberSid.Translate([Security.Principal.NTAccount]).Value } catch { $resolved = $false }
            $class = "$($type.InvokeMember('Class', 'GetProperty', $null, $member, $null))"
            [ordered]@{
                name = $name; sid = $memberSid.Value; object_class = $class
                member_type = $(if ($class -in 'User', 'Group') { $class } else { 'Other' })
                principal_source = $null; resolved = $resolved
            }
        })
    }
    return [ordered]@{
        group_sid = 'S-1-5-32-544'; group_name = $groupName; method = $method; note = $note
        members = $members
    }
}

function Get-CwhFeatures {
    $features = [ordered]@{}
    foreach ($name in @($request.features)) {
        $entry = [ordered]@{ install_state = $null; source = 'Get-WindowsFeature'; error = $null }
        try {
            $feature = Get-WindowsFeature -Name $name
            if ($null -eq $feature) { $entry.error = "no feature named $name on this system" }
            else { $entry.install_state = "$($feature.InstallState)" }
        } catch {
            $entry.error = Get-CwhErrorText $_
        }
        $features[$name] = $entry
    }
    return [ordered]@{ features = $features }
}

# The enforced state: ActiveStore merges Group Policy and local settings. NotConfigured is passed
# on as such (the judge knows Windows' default for it). ActiveProfile names the profiles in force
# on the host's networks; without it the judge considers all three.
function Get-CwhFirewallProfiles {
    $profiles = @(Get-NetFirewallProfile -PolicyStore ActiveStore -ErrorAction Stop | ForEach-Object {
        [ordered]@{
            name = "$($_.Name)"; enabled = "$($_.Enabled)"
            default_inbound_action = "$($_.DefaultInboundAction)"
        }
    })
    $active = $null
    $activeError = $null
    try {
        $setting = Get-NetFirewallSetting -PolicyStore ActiveStore -ErrorAction Stop
        $active = "$($setting.ActiveProfile)"
    } catch {
        $activeError = Get-CwhErrorText $_
    }
    return [ordered]@{
        store = 'ActiveStore'; profiles = $profiles
        active_profile = $active; active_profile_error = $activeError
    }
}

# One bulk query per filter class, joined on InstanceID: per-rule filter cmdlets take seconds
# on hosts with hundreds of rules.
function Get-CwhFirewallRules {
    $ports = @{}
    foreach ($filter in @(Get-NetFirewallPortFilter -PolicyStore ActiveStore -ErrorAction Stop)) {
        $ports[$filter.InstanceID] = $filter
    }
    $programs = @{}
    foreach ($filter in @(Get-NetFirewallApplicationFilter -PolicyStore ActiveStore -ErrorAction Stop)) {
        $programs[$filter.InstanceID] = $filter.Program
    }
    $rules = @(foreach ($rule in @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -ErrorAction Stop)) {
        $port = $ports[$rule.InstanceID]
        [ordered]@{
            id = $rule.InstanceID
            display_name = $rule.DisplayName
            enabled = "$($rule.Enabled)"
            action = "$($rule.Action)"
            profiles = "$($rule.Profile)"
            protocol = if ($port) { "$($port.Protocol)" } else { $null }
            local_ports = if ($port) { @($port.LocalPort | ForEach-Object { "$_" }) } else { @() }
            program = $programs[$rule.InstanceID]
        }
    })
    return [ordered]@{ store = 'ActiveStore'; direction = 'Inbound'; rules = $rules }
}

function Get-CwhTcpListeners {
    $names = @{}
    foreach ($process in @(Get-Process -ErrorAction Stop)) { $names[$process.Id] = $process.ProcessName }
    $listeners = @(Get-NetTCPConnection -State Listen -ErrorAction Stop | ForEach-Object {
        [ordered]@{
            address = $_.LocalAddress; port = [int]$_.LocalPort; pid = [int]$_.OwningProcess
            process = $names[[int]$_.OwningProcess]
        }
    })
    return [ordered]@{ listeners = $listeners }
}

function Get-CwhServices {
    $patterns = @($request.services)
    $services = @(foreach ($service in @(Get-CimInstance -ClassName Win32_Service)) {
        $wanted = $false
        foreach ($pattern in $patterns) { if ($service.Name -like $pattern) { $wanted = $true } }
        if ($wanted) {
            [ordered]@{
                name = $service.Name; display_name = $service.DisplayName; state = $service.State
                start_mode = $service.StartMode; path = $service.PathName
            }
        }
    })
    return [ordered]@{ patterns = $patterns; services = $services }
}

# IIS applies configuration in layers: applicationHost.config, then the web.config of each site,
# application, virtual directory and folder below it, any of which may re-allow OPTIONS or send
# the Server header again. So every web.config under the physical path of each virtual
# directory is read (within the text limit). applicationHost.config is parsed here only to find
# those paths, with DTDs prohibited and no resolver: a hostile file expands nothing on the host.
$MaxIisSiteConfigs = 500

function Get-CwhIisSiteConfigs {
    param([string]$ConfigText)
    $settings = New-Object Xml.XmlReaderSettings
    $settings.DtdProcessing = [Xml.DtdProcessing]::Prohibit
    $settings.XmlResolver = $null
    $doc = New-Object Xml.XmlDocument
    $doc.XmlResolver = $null
    $reader = [Xml.XmlReader]::Create((New-Object IO.StringReader($ConfigText)), $settings)
    try { $doc.Load($reader) } finally { $reader.Close() }
    $remaining = $MaxTextBytes
    $count = 0
    foreach ($site in @($doc.SelectNodes('/configuration/system.applicationHost/sites/site'))) {
        foreach ($app in @($site.SelectNodes('application'))) {
            foreach ($vdir in @($app.SelectNodes('virtualDirectory'))) {
                $physical = [Environment]::ExpandEnvironmentVariables($vdir.GetAttribute('physicalPath'))
                $where = [ordered]@{
                    site = $site.GetAttribute('name'); application = $app.GetAttribute('path')
                    virtual_directory = $vdir.GetAttribute('path'); physical_path = $physical
                    relative_dir = $null; path = $null; text = $null; error = $null
                }
                try {
                    $files = @([IO.Directory]::EnumerateFiles($physical, 'web.config',
                        [IO.SearchOption]::AllDirectories))
                } catch {
                    $where.error = Get-CwhErrorText $_
                    $where
                    continue
                }
                foreach ($file in $files) {
                    $count += 1
                    if ($count -gt $MaxIisSiteConfigs) {
                        throw "more than $MaxIisSiteConfigs web.config files under the sites' physical paths"
                    }
                    $entry = [ordered]@{}
                    foreach ($key in $where.Keys) { $entry[$key] = $where[$key] }
                    $entry.path = $file
                    $entry.relative_dir = ([IO.Path]::GetDirectoryName($file)).Substring(
                        $physical.TrimEnd('\').Length).Trim('\')
                    try {
                        $text = Read-CwhText $file
                        $remaining -= $text.Length
                        if ($remaining -lt 0) {
                            throw "the sites' web.config files together are over the collector's limit of $MaxTextBytes bytes"
                        }
                        $entry.text = $text
                    } catch {
                        $entry.error = Get-CwhErrorText $_
                    }
                    $entry
                }
            }
        }
    }
}

# With shared configuration (redirection.config enabled) another applicationHost.config is the
# one in force: redirection.config is returned for the judge to see (its password is encrypted,
# and the judge reads only enabled and path).
function Get-CwhIis {
    $configDir = Join-Path $env:SystemRoot 'System32\inetsrv\config'
    $config = Join-Path $configDir 'applicationHost.config'
    $redirection = Join-Path $configDir 'redirection.config'
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name = 'W3SVC'"
    $present = Test-Path -LiteralPath $config
    $text = if ($present) { Read-CwhText $config } else { $null }
    $siteConfigs = @()
    $siteError = $null
    if ($null -ne $text) {
        try {
            $siteConfigs = @(Get-CwhIisSiteConfigs -ConfigText $text)
        } catch {
            $siteError = Get-CwhErrorText $_
        }
    }
    $redirectionPresent = Test-Path -LiteralPath $redirection
    return [ordered]@{
        installed = [bool]($present -or $service)
        w3svc_state = if ($service) { $service.State } else { $null }
        config_path = $config
        config_text = $text
        redirection_path = $redirection
        redirection_exists = [bool]$redirectionPresent
        redirection_text = if ($redirectionPresent) { Read-CwhText $redirection } else { $null }
        site_configs = $siteConfigs
        site_configs_error = $siteError
    }
}

# The install root comes from the Web Server service's image path; default locations only when
# no service is registered (the evidence says which).
function Get-CwhScreenConnect {
    $root = $null
    $rootSource = 'none'
    $service = Get-CimInstance -ClassName Win32_Service -Filter "Name = 'ScreenConnect Web Server'"
    if ($service -and $service.PathName -match '^\s*"?(?<exe>[^"]+?\\ScreenConnect\.Service\.exe)') {
        $root = Split-Path -Parent (Split-Path -Parent $Matches['exe'])
        $rootSource = 'service image path'
    } else {
        foreach ($candidate in @("${env:ProgramFiles(x86)}\ScreenConnect", "$env:ProgramFiles\ScreenConnect")) {
            if ($candidate -and (Test-Path -LiteralPath $candidate)) {
                $root = $candidate
                $rootSource = 'default location'
                break
            }
        }
    }
    $result = [ordered]@{
        install_root = $root; root_source = $rootSource; service_exe = $null
        file_version = $null; product_version = $null; web_config_path = $null; web_config_text = $null
    }
    if ($root) {
        $exe = Join-Path $root 'Bin\ScreenConnect.Service.exe'
        if (Test-Path -LiteralPath $exe) {
            $info = (Get-Item -LiteralPath $exe).VersionInfo
            $result.service_exe = $exe
            $result.file_version = $info.FileVersion
            $result.product_version = $info.ProductVersion
        }
        $webConfig = Join-Path $root 'web.config'
        if (Test-Path -LiteralPath $webConfig) {
            $result.web_config_path = $webConfig
            $result.web_config_text = Read-CwhText $webConfig
        }
    }
    return $result
}

# http.sys keeps its certificate bindings in the registry, one subkey per binding under
# SslBindingInfo (IP:port), SslSniBindingInfo (hostname:port) and SslCcsBindingInfo (Central
# Certificate Store), each value reported with its type: the same on every Windows language.
# netsh's console text (translated on non-English Windows) comes beside it, as corroboration;
# either one failing leaves the other standing.
function Read-CwhSslBindingKeys {
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    foreach ($store in @('SslBindingInfo', 'SslSniBindingInfo', 'SslCcsBindingInfo')) {
        $key = $base.OpenSubKey("SYSTEM\CurrentControlSet\Services\HTTP\Parameters\$store", $false)
        if ($null -eq $key) { continue }
        try {
            foreach ($name in @($key.GetSubKeyNames())) {
                $sub = $key.OpenSubKey($name, $false)
                if ($null -eq $sub) { throw "the binding key $store\$name could not be opened" }
                try {
                    $values = [ordered]@{}
                    foreach ($valueName in @($sub.GetValueNames())) {
                        $kind = $sub.GetValueKind($valueName).ToString()
                        $raw = $sub.GetValue($valueName, $null,
                            [Microsoft.Win32.RegistryValueOptions]::DoNotExpandEnvironmentNames)
                        $values[$valueName] = [ordered]@{
                            kind = $kind; value = ConvertTo-CwhRegistryData -Kind $kind -Raw $raw
                        }
                    }
                    [ordered]@{ store = $store; endpoint = $name; values = $values }
                } finally {
                    $sub.Close()
                }
            }
        } finally {
            $key.Close()
        }
    }
}

function Get-CwhHttpSslBindings {
    $registry = [ordered]@{
        path = 'HKLM\SYSTEM\CurrentControlSet\Services\HTTP\Parameters'; error = $null; bindings = @()
    }
    try {
        $registry.bindings = @(Read-CwhSslBindingKeys)
    } catch {
        $registry.error = Get-CwhErrorText $_
    }
    $output = $null
    $netshError = $null
    try {
        $run = Invoke-CwhNative -FilePath "$env:SystemRoot\System32\netsh.exe" -Arguments @('http', 'show', 'sslcert')
        if ($run.exit_code -eq 0) { $output = $run.output }
        else { $netshError = "netsh http show sslcert failed with exit code {0}: {1}" -f $run.exit_code, $run.output }
    } catch {
        $netshError = Get-CwhErrorText $_
    }
    return [ordered]@{
        registry = $registry; command = 'netsh http show sslcert'; output = $output
        netsh_error = $netshError
    }
}

# PublicKey.Key throws for ECC keys on .NET Framework 4.x ("The certificate key algorithm is not
# supported"), so the key is read through the per-algorithm extension methods (.NET 4.6+), which
# PowerShell 5.1 can only call as the static methods they are.
function Get-CwhKeySize {
    param($Certificate)
    $rsa = [Security.Cryptography.X509Certificates.RSACertificateExtensions]::GetRSAPublicKey($Certificate)
    if ($null -ne $rsa) { return $rsa.KeySize }
    $ecdsa = [Security.Cryptography.X509Certificates.ECDsaCertificateExtensions]::GetECDsaPublicKey($Certificate)
    if ($null -ne $ecdsa) { return $ecdsa.KeySize }
    return $Certificate.PublicKey.Key.KeySize
}

function Get-CwhCertificates {
    $certificates = @(Get-ChildItem -LiteralPath 'Cert:\LocalMachine\My' | ForEach-Object {
        $keyBits = $null
        $keyError = $null
        try { $keyBits = Get-CwhKeySize $_ } catch { $keyError = Get-CwhErrorText $_ }
        [ordered]@{
            thumbprint = $_.Thumbprint; subject = $_.Subject; issuer = $_.Issuer
            not_before = ConvertTo-CwhIsoDate $_.NotBefore; not_after = ConvertTo-CwhIsoDate $_.NotAfter
            has_private_key = [bool]$_.HasPrivateKey
            dns_names = @($_.DnsNameList | ForEach-Object { "$_" })
            key_algorithm = $_.PublicKey.Oid.FriendlyName; key_bits = $keyBits; key_error = $keyError
        }
    })
    return [ordered]@{ store = 'LocalMachine\My'; certificates = $certificates }
}

# Evidence for the manual control on Internet use by administrators: what could be used, and
# which profiles hold browser or mail data. The patterns come from the request.
function Get-CwhInternetApps {
    $roots = @(
        'SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
        'SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall')
    $base = [Microsoft.Win32.RegistryKey]::OpenBaseKey(
        [Microsoft.Win32.RegistryHive]::LocalMachine, [Microsoft.Win32.RegistryView]::Registry64)
    $installed = @(foreach ($rootPath in $roots) {
        $root = $base.OpenSubKey($rootPath, $false)
        if ($null -eq $root) { continue }
        foreach ($subName in @($root.GetSubKeyNames())) {
            $sub = $root.OpenSubKey($subName, $false)
            if ($null -eq $sub) { continue }
            $name = $sub.GetValue('DisplayName')
            $matched = $false
            foreach ($pattern in @($request.internet_app_patterns)) {
                if ($name -and $name -like $pattern) { $matched = $true }
            }
            if ($matched) {
                [ordered]@{ name = $name; version = $sub.GetValue('DisplayVersion'); publisher = $sub.GetValue('Publisher') }
            }
            $sub.Close()
        }
        $root.Close()
    })
    $profiles = @(Get-CimInstance -ClassName Win32_UserProfile | Where-Object { -not $_.Special } | ForEach-Object {
        $profilePath = $_.LocalPath
        $found = @(foreach ($relative in @($request.browser_data_paths)) {
            if (Test-Path -LiteralPath (Join-Path $profilePath $relative)) { $relative }
        })
        [ordered]@{
            sid = $_.SID; path = $profilePath; last_use = ConvertTo-CwhIsoDate $_.LastUseTime
            browser_data = $found
        }
    })
    return [ordered]@{ installed = $installed; profiles = $profiles }
}

# --- main -------------------------------------------------------------------------------------

$handlers = [ordered]@{
    os = { Get-CwhOs }
    identity = { Get-CwhIdentity }
    registry = { Get-CwhRegistry }
    secedit = { Get-CwhSecedit }
    local_admins = { Get-CwhLocalAdmins }
    features = { Get-CwhFeatures }
    firewall_profiles = { Get-CwhFirewallProfiles }
    firewall_rules = { Get-CwhFirewallRules }
    tcp_listeners = { Get-CwhTcpListeners }
    services = { Get-CwhServices }
    iis = { Get-CwhIis }
    screenconnect = { Get-CwhScreenConnect }
    http_sslcert = { Get-CwhHttpSslBindings }
    certificates = { Get-CwhCertificates }
    internet_apps = { Get-CwhInternetApps }
}

# Every section runs in a runspace of its own, side by side, so a section that hangs
# (Get-WindowsFeature while servicing is busy, SID lookups against an unreachable domain
# controller) costs only its own answer: at the request's budget the collector stops waiting,
# reports that section as timed out and writes the document with all the others. Runspaces share
# this process (jobs would start one powershell.exe per section). A runspace inherits nothing
# from this scope, so it gets the collector's functions, the request and the preferences.
$SectionScript = @'
param($Body, $Preferences, $Defaults)
Set-StrictMode -Version 2.0
foreach ($entry in $Preferences.GetEnumerator()) { Set-Variable -Name $entry.Key -Value $entry.Value }
foreach ($entry in $Defaults.GetEnumerator()) { $PSDefaultParameterValues[$entry.Key] = $entry.Value }
$request = ConvertFrom-Json -InputObject $CwhRequest
$MaxTextBytes = [int]$request.max_text_bytes
Invoke-CwhSection -Body ([ScriptBlock]::Create($Body))
'@

function Start-CwhSections {
    param([string[]]$Names)
    $iss = [Management.Automation.Runspaces.InitialSessionState]::CreateDefault()
    foreach ($function in @(Get-ChildItem -Path 'function:' | Where-Object { $_.Name -like '*-Cwh*' })) {
        $iss.Commands.Add((New-Object Management.Automation.Runspaces.SessionStateFunctionEntry(
            $function.Name, $function.Definition)))
    }
    $iss.Variables.Add((New-Object Management.Automation.Runspaces.SessionStateVariableEntry(
        'CwhRequest', $CwhRequest, 'the request, parsed again in each runspace')))
    $preferences = @{}
    foreach ($variable in @(Get-Variable -Name '*Preference')) { $preferences[$variable.Name] = $variable.Value }
    $defaults = @{}
    foreach ($key in @($PSDefaultParameterValues.Keys)) { $defaults[$key] = $PSDefaultParameterValues[$key] }
    $pool = [Management.Automation.Runspaces.RunspaceFactory]::CreateRunspacePool($iss)
    [void]$pool.SetMaxRunspaces([Math]::Max(1, $Names.Count))
    $pool.Open()
    $running = [ordered]@{}
    foreach ($name in $Names) {
        $shell = [PowerShell]::Create()
        $shell.RunspacePool = $pool
        [void]$shell.AddScript($SectionScript)
        [void]$shell.AddParameter('Body', $handlers[$name].ToString())
        [void]$shell.AddParameter('Preferences', $preferences)
        [void]$shell.AddParameter('Defaults', $defaults)
        $running[$name] = @{ shell = $shell; handle = $shell.BeginInvoke() }
    }
    return @{ pool = $pool; running = $running }
}

function Receive-CwhSection {
    param($Shell, $Handle)
    try {
        $output = @($Shell.EndInvoke($Handle))
        if ($output.Count -ne 1) { throw "the section's runspace returned $($output.Count) results, not one" }
        return $output[0].psobject.BaseObject
    } catch {
        return [ordered]@{
            ok = $false; error = Get-CwhErrorText $_; error_type = $_.Exception.GetType().FullName; ms = 0
        }
    }
}

$started = [DateTime]::UtcNow
$budget = [double]$request.section_budget_sec
$wanted = @(@($request.sections) | Where-Object { $handlers.Contains($_) })
$sections = [ordered]@{}
$parallel = $null
$runner = [ordered]@{ method = 'runspaces'; error = $null }
try {
    $parallel = Start-CwhSections -Names $wanted
} catch {
    # Without runspaces the sections run one after another, as a last resort.
    $runner = [ordered]@{ method = 'one after another'; error = Get-CwhErrorText $_ }
}
if ($null -ne $parallel) {
    $deadline = $started.AddSeconds($budget)
    foreach ($name in $wanted) {
        $left = [Math]::Max(0, [int]($deadline - [DateTime]::UtcNow).TotalMilliseconds)
        [void]$parallel.running[$name].handle.AsyncWaitHandle.WaitOne($left)
    }
}
$stopped = 0
foreach ($name in @($request.sections)) {
    if (-not $handlers.Contains($name)) {
        $sections[$name] = [ordered]@{ ok = $false; error = "the collector has no section '$name'" }
    } elseif ($null -eq $parallel) {
        $sections[$name] = Invoke-CwhSection -Body $handlers[$name]
    } elseif ($parallel.running[$name].handle.IsCompleted) {
        $sections[$name] = Receive-CwhSection $parallel.running[$name].shell $parallel.running[$name].handle
    } else {
        [void]$parallel.running[$name].shell.BeginStop($null, $null)
        $stopped += 1
        $sections[$name] = [ordered]@{
            ok = $false; timed_out = $true
            error = ("the section did not finish within the collector's budget of {0} s; it was " +
                "stopped and the other sections were kept") -f $budget.ToString([Globalization.CultureInfo]::InvariantCulture)
            error_type = 'System.TimeoutException'
            ms = [int]([DateTime]::UtcNow - $started).TotalMilliseconds
        }
    }
}
if ($null -ne $parallel -and $stopped -eq 0) { $parallel.pool.Dispose() }
$document = [ordered]@{
    schema = 1
    collector_version = $request.collector_version
    computer = $env:COMPUTERNAME
    powershell = $PSVersionTable.PSVersion.ToString()
    started = ConvertTo-CwhIsoDate $started
    finished = ConvertTo-CwhIsoDate ([DateTime]::UtcNow)
    section_budget_sec = $budget
    section_runner = $runner
    sections = $sections
}
$json = ConvertTo-Json -InputObject $document -Depth 12 -Compress
$bytes = [Text.Encoding]::UTF8.GetBytes($json)
$buffer = New-Object IO.MemoryStream
$gzip = New-Object IO.Compression.GZipStream($buffer, [IO.Compression.CompressionMode]::Compress)
$gzip.Write($bytes, 0, $bytes.Length)
$gzip.Close()
[Console]::Out.Write('CWH-FACTS-GZIP:' + [Convert]::ToBase64String($buffer.ToArray()) + "`r`n")
if ($stopped -gt 0) {
    # A section stuck in a call that ignores Stop keeps its pipeline thread, a foreground
    # thread, alive: end the process once the document is out instead of waiting for it.
    [Console]::Out.Flush()
    [Environment]::Exit(0)
}
