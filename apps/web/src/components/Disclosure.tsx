import type { ReactNode } from 'react'

/** A button that shows or hides its content; the content is not rendered while closed. */
export function Disclosure({
  className,
  label,
  open,
  onToggle,
  children,
}: {
  className: string
  label: ReactNode
  open: boolean
  onToggle: (open: boolean) => void
  children: ReactNode
}) {
  return (
    <div className={className} data-open={open ? 'true' : 'false'}>
      <button type="button" className="disclosure" aria-expanded={open} onClick={() => onToggle(!open)}>
        {label}
      </button>
      {open ? children : null}
    </div>
  )
}
